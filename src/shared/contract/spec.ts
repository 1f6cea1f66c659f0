import type { z } from 'zod'

/** A method's schemas: what it accepts, what it returns. */
export interface MethodSpec {
  input: z.ZodType
  output: z.ZodType
}

/** Workspace names (runs, datasets) become folder names: portable and free of path tricks. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

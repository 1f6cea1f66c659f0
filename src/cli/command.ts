import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { z } from 'zod'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>
export type OptionValues = Record<string, string | boolean | undefined>

/** A parseArgs spec from flag names: `strings` take a value, `booleans` are switches. */
export function optionSpec(strings: readonly string[], booleans: readonly string[] = []): OptionSpec {
  return Object.fromEntries([...strings.map((n) => [n, { type: 'string' as const }]), ...booleans.map((n) => [n, { type: 'boolean' as const }])])
}

/** One `equiav` subcommand: its options (node:util parseArgs spec), help text and handler. */
export interface Command {
  /** words after `equiav`, e.g. ['dataset', 'import'] */
  path: string[]
  summary: string
  /** one line per option, shown by --help */
  usage: string
  options: OptionSpec
  /** resolves to the process exit code */
  run(values: OptionValues, positionals: string[]): Promise<number>
}

export class UsageError extends Error {}

export function parseCommandArgs(cmd: Command, argv: string[]): { values: OptionValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: cmd.options, allowPositionals: true, strict: true })
    return { values: values as OptionValues, positionals }
  } catch (err) {
    throw new UsageError(`equiav ${cmd.path.join(' ')}: ${(err as Error).message}`)
  }
}

export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

/** A positive integer option, with a clear message when it is not one. */
export function int(values: OptionValues, name: string): number | undefined {
  const v = str(values, name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} must be a non-negative integer, got "${v}"`)
  return n
}

export function num(values: OptionValues, name: string): number | undefined {
  const v = str(values, name)
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`)
  return n
}

/** A flag that takes one of `choices` (absent: `fallback`), with the request schemas' message when it is none of them. */
export function choice<T extends string>(values: OptionValues, name: string, choices: readonly T[]): T | undefined
export function choice<T extends string>(values: OptionValues, name: string, choices: readonly T[], fallback: T): T
export function choice<T extends string>(values: OptionValues, name: string, choices: readonly T[], fallback?: T): T | undefined {
  const v = str(values, name) ?? fallback
  if (v !== undefined && !(choices as readonly string[]).includes(v)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}`)
  return v as T | undefined
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** Request fields given as flags of their names in kebab case, each with the reader of its value (int, num or str). */
export type FieldFlags = Record<string, (values: OptionValues, name: string) => unknown>

export const fieldOptions = (fields: FieldFlags): OptionSpec => optionSpec(Object.keys(fields).map(kebab))

/** The request fields the flags give; an absent flag gives undefined, which leaves the field to the schema's default. */
export const fieldValues = (values: OptionValues, fields: FieldFlags): Record<string, unknown> =>
  Object.fromEntries(Object.entries(fields).map(([key, read]) => [key, read(values, kebab(key))]))

/**
 * Flags given as a request (the schema the workbench sends too): the parsed request with its defaults, or
 * a UsageError naming each flag and its problem. `flags` names a flag that is not the field in kebab case.
 */
export function parseFlags<S extends z.ZodType>(schema: S, input: Record<string, unknown>, flags: Record<string, string> = {}): z.output<S> {
  const parsed = schema.safeParse(input)
  if (parsed.success) return parsed.data
  const line = (i: z.core.$ZodIssue): string => {
    const key = i.path.length ? String(i.path[0]) : ''
    return key ? `--${flags[key] ?? kebab(key)} ${i.message}` : i.message
  }
  throw new UsageError(parsed.error.issues.map(line).join('\n'))
}

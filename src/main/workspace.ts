import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The user's workspace: --workspace, else EQUIAV_WORKSPACE, else ~/EquiAV. */
export function resolveWorkspace(flag?: string): string {
  return resolve(flag ?? process.env.EQUIAV_WORKSPACE ?? join(homedir(), 'EquiAV'))
}

export const runsDir = (workspace: string): string => join(workspace, 'runs')
export const runDir = (workspace: string, run: string): string => join(workspace, 'runs', run)
export const datasetsDir = (workspace: string): string => join(workspace, 'datasets')
export const datasetDir = (workspace: string, name: string): string => join(workspace, 'datasets', name)

/** Run and dataset names become folder names: keep them portable and free of path tricks. */
export function checkName(kind: 'run' | 'dataset', name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new Error(`${kind} name "${name}" must be 1–128 letters, digits, '.', '_' or '-', starting with a letter or digit`)
  }
  return name
}

/**
 * `equiav cluster attach`: a run folder that lives elsewhere (a shared or synced file system) joins the
 * workspace as a link under runs/, so every command and view that reads a run — curves, retrieval,
 * embeddings, fine-tuning, `pretrain --resume` — reads it in place. The link's target is where it trains.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs'
import { mkdir, symlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { checkName, runDir, runsDir } from '../workspace'

/** The run folder inside what the user points at: the folder itself, or `run/` of a `cluster export` folder. */
export function findRunFolder(dir: string): string {
  const abs = resolve(dir)
  for (const candidate of [abs, join(abs, 'run')]) if (existsSync(join(candidate, 'config.json'))) return candidate
  throw new Error(`${abs}: no run folder here (neither ${join(abs, 'config.json')} nor ${join(abs, 'run', 'config.json')} exists)`)
}

export async function attachRun(workspace: string, dir: string, name: string): Promise<{ name: string; target: string }> {
  checkName('run', name)
  const target = findRunFolder(dir)
  const link = runDir(workspace, name)
  if (existsSync(link) || isLink(link)) throw new Error(`run "${name}" already exists in ${runsDir(workspace)}; choose another --name`)
  await mkdir(runsDir(workspace), { recursive: true })
  await symlink(target, link, process.platform === 'win32' ? 'junction' : 'dir')
  return { name, target }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/** Where an attached run lives (its link's target), or null for a run folder of the workspace itself. */
export function attachedLocation(workspace: string, name: string): string | null {
  const link = runDir(workspace, name)
  return isLink(link) ? resolve(runsDir(workspace), readlinkSync(link)) : null
}

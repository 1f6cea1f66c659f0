/** The workspace's runs as the Runs table reads them: config.json through its schema, metrics.jsonl line by line. */
import { existsSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { runDir, runsDir } from '../workspace'
import { type AnyRunConfig, AnyRunConfigSchema, configPath, readConfig } from './config'

/** metrics.jsonl's complete lines: a line still being written has no newline yet and waits for the next read. */
export async function metricsLines(workspace: string, run: string): Promise<string[]> {
  const path = join(runDir(workspace, run), 'metrics.jsonl')
  if (!existsSync(path)) return []
  const lines = (await readFile(path, 'utf8')).split('\n')
  lines.pop()
  return lines.filter((l) => l.trim())
}

/** Every run folder with a config.json (attached ones are links), by name, with its config. */
export async function listRuns(workspace: string): Promise<{ name: string; config: AnyRunConfig }[]> {
  if (!existsSync(runsDir(workspace))) return []
  const names = (await readdir(runsDir(workspace), { withFileTypes: true })).filter((d) => d.isDirectory() || d.isSymbolicLink()).map((d) => d.name)
  const found = names.sort().filter((name) => existsSync(configPath(runDir(workspace, name))))
  return Promise.all(found.map(async (name) => ({ name, config: await readConfig(runDir(workspace, name), AnyRunConfigSchema) })))
}

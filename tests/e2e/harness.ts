/**
 * `equiav serve` on a temporary workspace and Debian's Chromium driven by playwright-core, for the
 * browser tests. Needs the built renderer (`npm run build`, which CI runs first) and /usr/bin/chromium.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { type Browser, chromium } from 'playwright-core'

export const root = resolve(__dirname, '../..')
/** set to docs/ to refresh the README's pictures */
export const shots = process.env.EQUIAV_SCREENSHOTS

export interface Workbench {
  workspace: string
  url: string
  browser: Browser
  close(): Promise<void>
}

export function tempWorkspace(): string {
  return mkdtempSync(join(tmpdir(), 'equiav-e2e-'))
}

/** Runs the `equiav` command on a workspace: its stdout and stderr, or an error with its stderr. */
export function equiav(workspace: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [join(root, 'bin/equiav.mjs'), ...args, '--workspace', workspace], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`equiav ${args.join(' ')} failed: ${r.stderr}`)
  return `${r.stdout}\n${r.stderr}`
}

/** of the tiny run workspace's 24 demo clips, 4 go to the test split */
export const TINY_TRAIN_CLIPS = 20

/** A new workspace with a 24-clip demo dataset prepared for `tiny` and a two-step run `tiny-run` on it. */
export function tinyRunWorkspace(): string {
  const workspace = tempWorkspace()
  equiav(workspace, 'dataset', 'create-demo', '--name', 'demo', '--clips', '24')
  equiav(workspace, 'dataset', 'prepare', '--name', 'demo', '--preset', 'tiny')
  equiav(workspace, 'pretrain', '--dataset', 'demo', '--preset', 'tiny', '--steps', '2', '--batch-size', '4', '--run', 'tiny-run')
  return workspace
}

export async function openWorkbench(workspace: string): Promise<Workbench> {
  const server: ChildProcess = spawn(process.execPath, [join(root, 'bin/equiav.mjs'), 'serve', '--workspace', workspace], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((ok, fail) => {
    server.stdout!.on('data', (d: Buffer) => {
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\w+/.exec(d.toString())
      if (m) ok(m[0])
    })
    server.once('exit', (code) => fail(new Error(`serve exited with ${code}`)))
  })
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
  return {
    workspace,
    url,
    browser,
    async close() {
      await browser.close()
      // the server may still be writing (media caches): remove the workspace only once it has exited
      if (server.exitCode === null && server.signalCode === null) await new Promise((done) => server.once('exit', done).kill())
      rmSync(workspace, { recursive: true, force: true })
    }
  }
}

/**
 * `equiav serve` on a temporary workspace and Debian's Chromium driven by playwright-core, for the
 * browser tests. Needs the built renderer (`npm run build`, which CI runs first) and /usr/bin/chromium.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'

export const root = fileURLToPath(new URL('../..', import.meta.url))

export interface Workbench {
  workspace: string
  url: string
  browser: Browser
  close(): Promise<void>
}

export function tempWorkspace(): string {
  return mkdtempSync(join(tmpdir(), 'equiav-e2e-'))
}

/** `serve` on the workspace and a headless Chromium; close() removes the workspace unless `keep` is set. */
export async function openWorkbench(workspace: string, { keep = false } = {}): Promise<Workbench> {
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
      if (!keep) rmSync(workspace, { recursive: true, force: true })
    }
  }
}

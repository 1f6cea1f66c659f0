import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Command, optionSpec, UsageError, int, str } from '../command'
import { resolveWorkspace } from '../../main/workspace'
import { createApiServer, isLoopback, newToken } from '../../main/api/http'
import { createRouter } from '../../main/api/router'
import { workspaceServices } from '../../main/api/services'
import { DatasetCatalogs } from '../../main/data/datasets'
import { JobRunner } from '../../main/jobs/runner'
import { EventHub, publishJobEvents } from '../../main/api/events'
import { attachEventSocket } from '../../main/api/ws'
import { createMediaHandler } from '../../main/api/media'
import { ClipPlayback } from '../../main/api/playback'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** The renderer is built once (a few seconds) the first time serve runs from a fresh checkout. */
function ensureRenderer(): string {
  const dir = join(root, 'out', 'renderer')
  if (!existsSync(join(dir, 'index.html'))) {
    process.stderr.write('building the workbench UI (first run only)…\n')
    const r = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: ['ignore', 2, 2] }) // keep stdout for the URL line alone
    if (r.status !== 0) throw new Error('building the UI failed; run `npm run build` to see why')
  }
  return dir
}

/** Serves the workbench of `workspace` until SIGINT / SIGTERM; prints its URL (with the token) on stdout. */
export async function serveWorkbench(workspace: string, host: string, port: number): Promise<void> {
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  const token = newToken()
  const jobs = new JobRunner(workspace)
  const catalogs = new DatasetCatalogs(workspace)
  const playback = new ClipPlayback(workspace)
  const server = createApiServer({
    router: createRouter(workspaceServices(workspace, version, jobs, catalogs, playback)),
    token,
    staticDir: ensureRenderer(),
    media: createMediaHandler(workspace, catalogs, undefined, playback)
  })
  const hub = new EventHub()
  publishJobEvents(jobs, hub)
  const events = attachEventSocket(server, hub, token)
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, host, ok))
  const address = server.address()
  const bound = typeof address === 'object' && address ? address.port : 0
  process.stdout.write(`http://${host.includes(':') ? `[${host}]` : host}:${bound}/?token=${token}\n`)
  await new Promise<void>((done) => {
    const stop = (): void => {
      // a running job checkpoints and is continued by the next `equiav serve` on this workspace
      void jobs.detach()
      for (const client of events.clients) client.terminate()
      events.close()
      server.close(() => {
        catalogs.close()
        done()
      })
      server.closeAllConnections()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

export const serveCommand: Command = {
  path: ['serve'],
  summary: 'serve the workbench in the browser on this machine (127.0.0.1, token-protected)',
  usage: [
    '  --port N             (default: a free port)',
    '  --host H             (default 127.0.0.1; another address needs --allow-remote)',
    '  --allow-remote       accept a non-loopback --host (anyone with the token can then use the API)',
    '  --workspace DIR'
  ].join('\n'),
  options: optionSpec(['port', 'host', 'workspace'], ['allow-remote']),
  async run(values) {
    const host = str(values, 'host') ?? '127.0.0.1'
    if (!isLoopback(host) && !values['allow-remote']) throw new UsageError(`refusing to listen on ${host}: only loopback addresses unless --allow-remote is given`)
    await serveWorkbench(resolveWorkspace(str(values, 'workspace')), host, int(values, 'port') ?? 0)
    return 0
  }
}

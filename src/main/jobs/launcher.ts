/**
 * How the job runner starts an engine process. The CLI and `serve` fork Node with tsx; the Electron app
 * starts a utilityProcess on the bundled host (utility-launcher.ts). The runner sees only this interface.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { HostMessage, ParentMessage } from './protocol'

export interface EngineProcess {
  send(m: ParentMessage): void
  onMessage(cb: (m: HostMessage) => void): void
  onStderr(cb: (text: string) => void): void
  /** code 0 = finished; anything else is a crash unless a cancel was asked for */
  onExit(cb: (code: number | null, signal: string | null) => void): void
  /** true until the process has exited */
  running(): boolean
  kill(): void
  /** the process id (recorded with the job, so a restarted server knows when it has gone) */
  pid: number | undefined
  /** lets the process go on without this one: it checkpoints its job and exits by itself (engine-host.ts) */
  detach(): void
}

export type EngineLauncher = () => EngineProcess

/** child_process.fork of engine-host.ts through tsx: the CLI's and serve mode's engine processes. */
export const forkLauncher: EngineLauncher = () => {
  const child = fork(fileURLToPath(new URL('./engine-host.ts', import.meta.url)), [], {
    execArgv: ['--import', import.meta.resolve('tsx')],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  return {
    send: (m) => void child.send(m),
    onMessage: (cb) => void child.on('message', (m: HostMessage) => cb(m)),
    onStderr: (cb) => void child.stderr?.on('data', (d: Buffer) => cb(d.toString())),
    onExit: (cb) => void child.on('exit', (code, signal) => cb(code, signal)),
    running: () => child.exitCode === null && child.signalCode === null,
    kill: () => void child.kill('SIGKILL'),
    pid: child.pid,
    detach: () => {
      if (child.connected) child.disconnect()
      child.stderr?.destroy()
      child.unref()
    }
  }
}

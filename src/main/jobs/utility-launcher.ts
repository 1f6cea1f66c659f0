/**
 * Engine processes of the Electron app: an Electron utilityProcess running the bundled engine host
 * (out/main/engine-host.js, an entry of electron.vite.config.ts), so a job never runs on the main thread
 * and a crash or out-of-memory in it cannot take the window down.
 */
import { join } from 'node:path'
import type { EngineLauncher } from './launcher'
import type { HostMessage, ParentMessage } from './protocol'

/** The part of Electron's UtilityProcess used here. */
export interface UtilityProcessLike {
  postMessage(m: ParentMessage): void
  on(event: 'message', cb: (m: HostMessage) => void): this
  on(event: 'exit', cb: (code: number) => void): this
  stderr: NodeJS.ReadableStream | null
  pid: number | undefined
  kill(): boolean
}

export type UtilityFork = (modulePath: string, args: string[], options: { stdio: 'pipe'; serviceName: string }) => UtilityProcessLike

export function utilityLauncher(forkUtility: UtilityFork, mainDir: string): EngineLauncher {
  return () => {
    const child = forkUtility(join(mainDir, 'engine-host.js'), [], { stdio: 'pipe', serviceName: 'EquiAV engine' })
    let exited = false
    child.on('exit', () => {
      exited = true
    })
    return {
      send: (m) => child.postMessage(m),
      onMessage: (cb) => void child.on('message', cb),
      onStderr: (cb) => void child.stderr?.on('data', (d: Buffer) => cb(d.toString())),
      // a utility process reports only its exit code; a kill shows as a non-zero code
      onExit: (cb) => void child.on('exit', (code) => cb(code, null)),
      running: () => !exited,
      kill: () => void child.kill(),
      pid: child.pid,
      // a utility process ends with the app; its job continues from its last checkpoint at the next start
      detach: () => undefined
    }
  }
}

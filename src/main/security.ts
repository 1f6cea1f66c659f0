/**
 * The Electron window's security settings, as plain data so tests can assert them without Electron.
 */
import { CSP } from './api/http'

export const WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false
} as const

export { CSP }

/** Only our own page may call the API: the packaged file:// renderer, or the dev server in development. */
export function isTrustedUrl(url: string, devServer?: string): boolean {
  if (devServer) return url.startsWith(devServer)
  return url.startsWith('file://') && url.includes('/renderer/index.html')
}

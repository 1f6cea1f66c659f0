/** Electron main process: one locked-down window; the API served over IPC from the same router as `serve`. */
import { join } from 'node:path'
import { app, BrowserWindow, ipcMain, session, shell } from 'electron'
import { CSP, WEB_PREFERENCES, isTrustedUrl } from './security'
import { registerIpc } from './api/ipc'
import { createRouter } from './api/router'
import { workspaceServices } from './api/services'
import { JobRunner } from './jobs/runner'
import { resolveWorkspace } from './workspace'

const devServer = process.env.ELECTRON_RENDERER_URL

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    webPreferences: { ...WEB_PREFERENCES, preload: join(__dirname, '../preload/index.cjs') }
  })
  // no navigation away from the workbench, no new windows; links open in the system browser
  win.webContents.on('will-navigate', (e) => e.preventDefault())
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url)
    return { action: 'deny' }
  })
  if (devServer) void win.loadURL(devServer)
  else void win.loadFile(join(__dirname, '../renderer/index.html'))
}

if (!app.requestSingleInstanceLock()) app.quit()
app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  const workspace = resolveWorkspace()
  registerIpc(ipcMain, createRouter(workspaceServices(workspace, app.getVersion(), new JobRunner(workspace))), (url) => isTrustedUrl(url, devServer))
  createWindow()
})
app.on('window-all-closed', () => app.quit())

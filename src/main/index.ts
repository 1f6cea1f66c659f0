/** Electron main process: one locked-down window; the API served over IPC from the same router as `serve`. */
import { join } from 'node:path'
import { app, BrowserWindow, dialog, ipcMain, protocol, session, shell, utilityProcess } from 'electron'
import { MEDIA_SCHEME } from '../shared/media'
import { createMediaHandler } from './api/media'
import { mediaProtocolHandler } from './api/media-protocol'
import { ClipPlayback } from './api/playback'
import { CSP, WEB_PREFERENCES, isTrustedUrl } from './security'
import { EventHub, publishJobEvents } from './api/events'
import { forwardEvents, registerIpc } from './api/ipc'
import { createRouter } from './api/router'
import { toJob, workspaceServices } from './api/services'
import { DatasetCatalogs } from './data/datasets'
import { JobRunner } from './jobs/runner'
import { type UtilityFork, utilityLauncher } from './jobs/utility-launcher'
import { progressBarValue } from './progress-bar'
import { resolveWorkspace } from './workspace'

const devServer = process.env.ELECTRON_RENDERER_URL

function createWindow(hub: EventHub, jobs: JobRunner): void {
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
  // every event reaches the page; the OS progress bar follows the running job
  const stop = forwardEvents(hub, (channel, payload) => win.webContents.send(channel, payload))
  const bar = hub.subscribe((event) => {
    if (event === 'job.state' || event === 'job.progress') win.setProgressBar(progressBarValue(jobs.list().map(toJob)))
  })
  win.on('closed', () => {
    stop()
    bar()
  })
  if (devServer) void win.loadURL(devServer)
  else void win.loadFile(join(__dirname, '../renderer/index.html'))
}

if (!app.requestSingleInstanceLock()) app.quit()
// clip media for <video>, <audio> and <img>: read through the catalogs only (src/main/api/media.ts)
protocol.registerSchemesAsPrivileged([{ scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, stream: true, supportFetchAPI: true } }])
app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } })
  })
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  const workspace = resolveWorkspace()
  const catalogs = new DatasetCatalogs(workspace)
  const playback = new ClipPlayback(workspace)
  protocol.handle(MEDIA_SCHEME, mediaProtocolHandler(createMediaHandler(workspace, catalogs, undefined, playback)))
  // jobs run in utility processes on the bundled engine host (out/main/engine-host.js)
  const jobs = new JobRunner(workspace, 10_000, utilityLauncher(utilityProcess.fork as UtilityFork, __dirname))
  const hub = new EventHub()
  publishJobEvents(jobs, hub)
  registerIpc(ipcMain, createRouter(workspaceServices(workspace, app.getVersion(), jobs, catalogs, playback)), (url) => isTrustedUrl(url, devServer))
  createWindow(hub, jobs)
}).catch((err: unknown) => {
  // a setting the app cannot start with (EQUIAV_PLAYBACK_CACHE_MB that is not a size…): said, not a silent exit
  dialog.showErrorBox('EquiAV Workbench cannot start', err instanceof Error ? err.message : String(err))
  app.quit()
})
app.on('window-all-closed', () => app.quit())

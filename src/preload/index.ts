/** Exposes the API to the page as window.equiav: one function per contract method, payloads only. */
import { contextBridge, ipcRenderer } from 'electron'
import { METHODS } from '../shared/methods'

const bridge = Object.fromEntries(METHODS.map((m) => [m, (input: unknown) => ipcRenderer.invoke(`equiav:${m}`, input)]))
contextBridge.exposeInMainWorld('equiav', bridge)

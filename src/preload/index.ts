import { contextBridge } from 'electron'

contextBridge.exposeInMainWorld('equiav', { version: '0.1.0' })

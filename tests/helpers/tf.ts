import { initBackend, type BackendInfo } from '../../src/main/engine/backend'

/** Tests run on the backend CI has: wasm unless EQUIAV_BACKEND says otherwise. */
export function useTestBackend(): Promise<BackendInfo> {
  return initBackend(process.env.EQUIAV_BACKEND ?? 'wasm')
}

/**
 * Picks the TensorFlow.js backend at run time.
 * Order: tfjs-node-gpu (CUDA) > tfjs-node (native CPU) > wasm (SIMD, threads where the runtime allows) > cpu.
 * The native packages are optionalDependencies: their install downloads libtensorflow and fails offline,
 * so they are simply absent on such machines and we fall through to wasm.
 * EQUIAV_BACKEND=tensorflow-gpu|tensorflow|wasm|cpu forces one.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { installWasmKernels } from './wasm-kernels'

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu'
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']

export interface BackendInfo {
  /** the backend in use */
  name: BackendName
  /** tf.getBackend() of the active backend ('tensorflow' for both native packages) */
  tfBackend: string
  /** why this one: forced, or the reasons each better one was skipped */
  reason: string
  simd?: boolean
  threads?: number
}

/** The backend config.json names: the engine's, or another trainer's (the PyTorch trainer on a cluster writes its own). */
export type RecordedBackend = Omit<BackendInfo, 'name'> & { name: string }

const requireHere = createRequire(import.meta.url)

function tryRequire(pkg: string): string | null {
  try {
    requireHere(pkg)
    return null
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err)
    return msg
  }
}

async function activate(name: BackendName): Promise<BackendInfo | string> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow': {
      const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node'
      const failure = tryRequire(pkg)
      if (failure) return `${pkg} not loadable (${failure})`
      if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but its backend did not initialise`
      return { name, tfBackend: 'tensorflow', reason: `${pkg} loaded` }
    }
    case 'wasm': {
      const wasmDir = join(dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/'
      setWasmPaths(wasmDir)
      if (!(await tf.setBackend('wasm'))) return 'wasm backend did not initialise'
      installWasmKernels()
      const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))
      // the thread pool wasm actually runs (1 where the runtime has no multithreaded build), as it reports it
      return { name, tfBackend: 'wasm', reason: 'wasm', simd, threads: getThreadsCount() }
    }
    case 'cpu':
      await tf.setBackend('cpu')
      return { name, tfBackend: 'cpu', reason: 'pure-JS cpu backend' }
  }
}

let active: BackendInfo | null = null

/** Initialise once per process; later calls return the same choice. */
export async function initBackend(force: string | undefined = process.env.EQUIAV_BACKEND): Promise<BackendInfo> {
  if (active && (!force || force === active.name)) return active
  if (force) {
    if (!BACKEND_NAMES.includes(force as BackendName)) {
      throw new Error(`EQUIAV_BACKEND="${force}" is not one of ${BACKEND_NAMES.join(', ')}`)
    }
    const got = await activate(force as BackendName)
    if (typeof got === 'string') throw new Error(`backend ${force} was forced but is unavailable: ${got}`)
    active = { ...got, reason: `forced by EQUIAV_BACKEND (${got.reason})` }
    return active
  }
  const skipped: string[] = []
  for (const name of BACKEND_NAMES) {
    const got = await activate(name)
    if (typeof got === 'string') {
      skipped.push(`${name}: ${got}`)
      continue
    }
    active = { ...got, reason: skipped.length ? `best available; skipped ${skipped.join('; ')}` : got.reason }
    return active
  }
  throw new Error('no TensorFlow.js backend could be initialised')
}

export function describeBackend(info: BackendInfo): string {
  const extra = info.name === 'wasm' ? ` (SIMD ${info.simd ? 'on' : 'off'}, ${info.threads ?? 1} thread)` : ''
  return `backend: ${info.name}${extra}: ${info.reason}`
}

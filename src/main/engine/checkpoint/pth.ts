/**
 * Read PyTorch `torch.save` checkpoints (the zip format of torch ≥ 1.6) without executing anything:
 * `<archive>/data.pkl` is read by the allowlisted pickle reader, and each tensor is rebuilt from its raw
 * little-endian storage `<archive>/data/<key>`, honouring storage offset, size and stride.
 *
 * The top level must be a dict of tensors. The common training wrappers `{'state_dict': {...}}` and
 * `{'model': {...}}` are unwrapped to the inner dict; the wrapper's other entries (epoch, optimizer…) are
 * parsed under the same allowlist but otherwise ignored.
 */
import { type PyDict, type PyValue, describe, isNode, unpickle } from './pickle'
import { toFloat32 } from './safetensors'
import { BYTES_PER_ELEMENT, type DType, type TensorDict, numel } from './tensors'
import { ZipArchive } from './zip'

const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2'
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter'
const ORDERED_DICT = 'collections.OrderedDict'
const WRAPPER_KEYS = ['state_dict', 'model']

/** The legacy storage classes torch pickles as a storage's type, and the dtype each one holds. */
const STORAGE_DTYPES: Record<string, DType> = {
  'torch.FloatStorage': 'F32',
  'torch.HalfStorage': 'F16',
  'torch.BFloat16Storage': 'BF16',
  'torch.DoubleStorage': 'F64',
  'torch.LongStorage': 'I64',
  'torch.IntStorage': 'I32',
  'torch.ByteStorage': 'U8',
  'torch.BoolStorage': 'BOOL'
}

const CALLABLES = new Set([ORDERED_DICT, REBUILD_TENSOR, REBUILD_PARAMETER])
const PICKLE_OPTIONS = {
  globals: new Set([...CALLABLES, ...Object.keys(STORAGE_DTYPES)]),
  callables: CALLABLES,
  dictTypes: new Set([ORDERED_DICT])
}

interface StorageRef {
  key: string
  dtype: DType
  numel: number
}

/** A tensor as torch describes it: a strided view into a storage. */
interface TensorRef {
  storage: StorageRef
  offset: number
  size: number[]
  stride: number[]
}

/** Row-major copy of a strided view whose first element is `src[0]`. */
export function gatherStrided(src: Float32Array, size: readonly number[], stride: readonly number[]): Float32Array {
  const out = new Float32Array(numel(size))
  const index = new Array<number>(size.length).fill(0)
  let at = 0
  for (let i = 0; i < out.length; i++) {
    out[i] = src[at]
    for (let d = size.length - 1; d >= 0; d--) {
      if (++index[d] < size[d]) {
        at += stride[d]
        break
      }
      at -= (size[d] - 1) * stride[d]
      index[d] = 0
    }
  }
  return out
}

function isContiguous(size: readonly number[], stride: readonly number[]): boolean {
  let expected = 1
  for (let d = size.length - 1; d >= 0; d--) {
    if (size[d] !== 1 && stride[d] !== expected) return false
    expected *= size[d]
  }
  return true
}

function isCount(v: PyValue): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}

function counts(v: PyValue): number[] | undefined {
  return isNode(v, 'tuple') && v.items.every(isCount) ? (v.items as number[]) : undefined
}

class PthReader {
  private readonly zip: ZipArchive
  private readonly prefix: string
  private readonly storages = new Map<string, Uint8Array>()

  constructor(
    buf: Uint8Array,
    private readonly source: string
  ) {
    this.zip = new ZipArchive(buf, source)
    const pickles = [...this.zip.entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name))
    if (pickles.length !== 1) {
      this.fail(pickles.length ? `holds several pickles (${pickles.join(', ')})` : 'has no <archive>/data.pkl; not a torch.save checkpoint')
    }
    this.prefix = pickles[0].slice(0, -'data.pkl'.length)
    const byteorder = this.zip.entries.has(`${this.prefix}byteorder`)
      ? new TextDecoder().decode(this.zip.read(`${this.prefix}byteorder`)).trim()
      : 'little' // torch wrote no byteorder file before 2.1, and then only little-endian
    if (byteorder !== 'little') this.fail(`stores ${byteorder}-endian tensors; only little-endian is supported`)
  }

  read(): TensorDict {
    const root = unpickle(this.zip.read(`${this.prefix}data.pkl`), { ...PICKLE_OPTIONS, source: this.source })
    const out: TensorDict = new Map()
    for (const [key, value] of this.stateDict(root).entries) {
      if (typeof key !== 'string') this.fail(`refused: state dict key ${String(key)} is not a string`)
      const ref = this.tensorRef(value, key)
      if (!ref) this.fail(`refused: entry "${key}" is a ${describe(value)}, not a tensor`)
      out.set(key, { shape: ref.size, dtype: ref.storage.dtype, data: this.materialise(ref, key) })
    }
    return out
  }

  private fail(message: string): never {
    throw new Error(`${this.source}: ${message}`)
  }

  private stateDict(root: PyValue): PyDict {
    if (!isNode(root, 'dict')) this.fail(`refused: the pickled top level is a ${describe(root)}, not a dict of tensors`)
    for (const key of WRAPPER_KEYS) {
      const inner = root.entries.get(key)
      if (inner !== undefined && isNode(inner, 'dict')) return inner
    }
    return root
  }

  /** The tensor a value rebuilds, or undefined when it is not a tensor at all. */
  private tensorRef(v: PyValue, key: string): TensorRef | undefined {
    if (!isNode(v, 'call')) return undefined
    if (v.callable === REBUILD_PARAMETER) return this.tensorRef(v.args[0] ?? null, key) // (data, requires_grad, hooks)
    if (v.callable !== REBUILD_TENSOR) return undefined
    const [persistent = null, offset = null, sizeArg = null, strideArg = null] = v.args
    const size = counts(sizeArg)
    const stride = counts(strideArg)
    if (!isNode(persistent, 'persistent') || !isCount(offset) || !size || !stride || size.length !== stride.length) {
      this.fail(`tensor "${key}" has malformed ${REBUILD_TENSOR} arguments`)
    }
    return { storage: this.storageRef(persistent.pid, key), offset, size, stride }
  }

  /** torch's persistent id for a storage: ('storage', <storage class>, key, location, numel). */
  private storageRef(pid: PyValue, key: string): StorageRef {
    const [tag = null, type = null, storageKey = null, , count = null] = isNode(pid, 'tuple') ? pid.items : []
    if (tag !== 'storage' || !isNode(type, 'global') || typeof storageKey !== 'string' || !isCount(count)) {
      this.fail(`tensor "${key}" has a malformed storage reference`)
    }
    const dtype = STORAGE_DTYPES[type.name]
    if (!dtype) this.fail(`tensor "${key}" has unsupported storage type ${type.name}`)
    return { key: storageKey, dtype, numel: count }
  }

  private storageBytes(storage: StorageRef): Uint8Array {
    let bytes = this.storages.get(storage.key)
    if (!bytes) {
      const name = `${this.prefix}data/${storage.key}`
      if (!this.zip.entries.has(name)) this.fail(`storage ${name} is missing`)
      bytes = this.zip.read(name)
      if (bytes.byteLength < storage.numel * BYTES_PER_ELEMENT[storage.dtype]) {
        this.fail(`storage ${name} holds ${bytes.byteLength} bytes, fewer than its ${storage.numel} ${storage.dtype} elements`)
      }
      this.storages.set(storage.key, bytes)
    }
    return bytes
  }

  private materialise(ref: TensorRef, key: string): Float32Array {
    const count = numel(ref.size)
    if (count === 0) return new Float32Array(0)
    // elements from the first to the last one the view reaches
    const span = 1 + ref.size.reduce((sum, n, d) => sum + (n - 1) * ref.stride[d], 0)
    if (ref.offset + span > ref.storage.numel) {
      this.fail(`tensor "${key}" reaches element ${ref.offset + span - 1} of a storage of ${ref.storage.numel}`)
    }
    const { dtype } = ref.storage
    const width = BYTES_PER_ELEMENT[dtype]
    const contiguous = isContiguous(ref.size, ref.stride)
    const length = contiguous ? count : span
    const bytes = this.storageBytes(ref.storage).subarray(ref.offset * width, (ref.offset + length) * width)
    // F32 is copied as bytes (fast, bit-exact, aligned; `new Uint8Array(view)` copies even when given a Node
    // Buffer, whose slice() would not); other dtypes are converted element by element
    const values = dtype === 'F32' ? new Float32Array(new Uint8Array(bytes).buffer) : toFloat32(dtype, bytes, length)
    return contiguous ? values : gatherStrided(values, ref.size, ref.stride)
  }
}

/** Parse `torch.save` bytes; `source` (the file path) is named in every error. */
export function parsePth(buf: Uint8Array, source: string): TensorDict {
  return new PthReader(buf, source).read()
}

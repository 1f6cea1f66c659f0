/**
 * A minimal pickle reader that never executes anything. It understands the opcodes a PyTorch state dict
 * uses and builds an inert tree: a call (REDUCE) becomes a `PyCall` node and a persistent id (BINPERSID)
 * a `PyPersistent` node for the caller to interpret. Globals are checked against an allowlist the moment
 * they are named, and every other opcode is refused, so a malicious pickle fails before it can matter.
 */

export type PyKey = string | number | bigint | boolean | null
export interface PyTuple { kind: 'tuple'; items: PyValue[] }
export interface PyList { kind: 'list'; items: PyValue[] }
/** A dict, whether built by `{}` or by an allowed dict type such as collections.OrderedDict. */
export interface PyDict { kind: 'dict'; entries: Map<PyKey, PyValue> }
export interface PyGlobal { kind: 'global'; name: string }
export interface PyCall { kind: 'call'; callable: string; args: PyValue[] }
export interface PyPersistent { kind: 'persistent'; pid: PyValue }
export type PyValue = PyKey | PyTuple | PyList | PyDict | PyGlobal | PyCall | PyPersistent

export interface UnpickleOptions {
  /** named in errors, normally the file path */
  source: string
  /** `module.name` globals that may be named at all */
  globals: ReadonlySet<string>
  /** globals REDUCE may apply; each becomes an inert PyCall */
  callables: ReadonlySet<string>
  /** callables that, applied to no arguments, make an empty dict (SETITEM then fills it) */
  dictTypes: ReadonlySet<string>
}

/** Raised when a pickle asks for something outside the allowlist; the checkpoint is refused, not partly read. */
export class PickleRefusedError extends Error {
  override name = 'PickleRefusedError'
}

const OPCODE_NAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x2e: 'STOP', 0x28: 'MARK', 0x7d: 'EMPTY_DICT', 0x5d: 'EMPTY_LIST',
  0x29: 'EMPTY_TUPLE', 0x74: 'TUPLE', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x61: 'APPEND',
  0x65: 'APPENDS', 0x73: 'SETITEM', 0x75: 'SETITEMS', 0x58: 'BINUNICODE', 0x8c: 'SHORT_BINUNICODE',
  0x8d: 'BINUNICODE8', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2', 0x8a: 'LONG1', 0x47: 'BINFLOAT',
  0x4e: 'NONE', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x63: 'GLOBAL', 0x93: 'STACK_GLOBAL', 0x52: 'REDUCE',
  0x62: 'BUILD', 0x51: 'BINPERSID', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x94: 'MEMOIZE', 0x68: 'BINGET',
  0x6a: 'LONG_BINGET'
}

/** Python's pickle opcode names for the ones we refuse, so the error says what the file tried. */
const REFUSED_NAMES: Record<number, string> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x50: 'PERSID', 0x82: 'EXT1', 0x83: 'EXT2',
  0x84: 'EXT4'
}

/** A short human description of a value, for error messages. */
export function describe(v: PyValue): string {
  if (v === null) return 'None'
  if (typeof v !== 'object') return typeof v
  return v.kind === 'call' ? `result of ${v.callable}(…)` : v.kind
}

function isKey(v: PyValue): v is PyKey {
  return v === null || typeof v !== 'object'
}

type PyNode = Exclude<PyValue, PyKey>

/** Narrow a value to one node kind. */
export function isNode<K extends PyNode['kind']>(v: PyValue, kind: K): v is Extract<PyNode, { kind: K }> {
  return v !== null && typeof v === 'object' && v.kind === kind
}

export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PyValue {
  const { source } = options
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  const memo = new Map<number, PyValue>()
  const metastack: PyValue[][] = []
  let stack: PyValue[] = []
  let pos = 0
  let opPos = 0
  let op = 0

  const opName = (): string => OPCODE_NAMES[op] ?? REFUSED_NAMES[op] ?? `0x${op.toString(16).padStart(2, '0')}`
  const fail: (message: string) => never = (message) => {
    throw new Error(`${source}: pickle opcode ${opName()} at byte ${opPos}: ${message}`)
  }
  const need = (n: number): number => {
    if (pos + n > bytes.byteLength) fail('pickle data ends early (truncated)')
    const at = pos
    pos += n
    return at
  }
  const pop = (): PyValue => (stack.length ? stack.pop()! : fail('stack underflow'))
  const top = (): PyValue => (stack.length ? stack[stack.length - 1] : fail('stack underflow'))
  const popMark = (): PyValue[] => {
    const items = stack
    stack = metastack.pop() ?? fail('no MARK on the stack')
    return items
  }
  const text = (n: number): string => utf8.decode(bytes.subarray(need(n), pos))
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos)
    if (end < 0) fail('unterminated line')
    const s = utf8.decode(bytes.subarray(pos, end))
    pos = end + 1
    return s
  }
  const pushGlobal = (module: string, name: string): void => {
    const full = `${module}.${name}`
    if (!options.globals.has(full)) {
      throw new PickleRefusedError(
        `${source}: refused pickle opcode ${opName()} at byte ${opPos}: global ${full} is not allowed ` +
          `(a checkpoint may only name ${[...options.globals].join(', ')}); nothing was executed`
      )
    }
    stack.push({ kind: 'global', name: full })
  }
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!isNode(target, 'dict')) fail(`cannot set items on ${describe(target)}`)
    if (items.length % 2) fail('odd number of SETITEMS operands')
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i]
      if (!isKey(key)) fail(`dict key is a ${describe(key)}, not a plain value`)
      target.entries.set(key, items[i + 1])
    }
  }
  const append = (target: PyValue, items: PyValue[]): void => {
    if (!isNode(target, 'list')) fail(`cannot append to ${describe(target)}`)
    for (const v of items) target.items.push(v) // no spread: a long APPENDS would overflow the call stack
  }
  const memoGet = (index: number): PyValue => (memo.has(index) ? memo.get(index)! : fail(`memo entry ${index} is unset`))
  const reduce = (): PyValue => {
    const args = pop()
    const callable = pop()
    if (!isNode(callable, 'global')) fail(`cannot call a ${describe(callable)}`)
    if (!options.callables.has(callable.name)) {
      throw new PickleRefusedError(`${source}: refused pickle opcode REDUCE at byte ${opPos}: ${callable.name} may not be called; nothing was executed`)
    }
    if (!isNode(args, 'tuple')) fail('REDUCE arguments are not a tuple')
    if (options.dictTypes.has(callable.name)) {
      if (args.items.length) fail(`${callable.name} is only accepted with no arguments`)
      return { kind: 'dict', entries: new Map() }
    }
    return { kind: 'call', callable: callable.name, args: args.items }
  }

  for (;;) {
    opPos = pos
    op = bytes[need(1)]
    switch (op) {
      case 0x80: { // PROTO
        const proto = bytes[need(1)]
        if (proto < 2 || proto > 5) fail(`unsupported pickle protocol ${proto}`)
        break
      }
      case 0x95: need(8); break // FRAME: only a read-ahead hint; the opcodes inside follow on directly
      case 0x2e: { // STOP
        const result = pop()
        if (stack.length || metastack.length) fail('values left on the stack')
        return result
      }
      case 0x28: metastack.push(stack); stack = []; break // MARK
      case 0x7d: stack.push({ kind: 'dict', entries: new Map() }); break
      case 0x5d: stack.push({ kind: 'list', items: [] }); break
      case 0x29: stack.push({ kind: 'tuple', items: [] }); break
      case 0x74: { const items = popMark(); stack.push({ kind: 'tuple', items }); break } // popMark swaps `stack`
      case 0x85: case 0x86: case 0x87: {
        const n = op - 0x84
        if (stack.length < n) fail('stack underflow')
        stack.push({ kind: 'tuple', items: stack.splice(stack.length - n, n) })
        break
      }
      case 0x61: { const v = pop(); append(top(), [v]); break } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break } // SETITEMS
      case 0x58: { const n = view.getUint32(need(4), true); stack.push(text(n)); break }
      case 0x8c: stack.push(text(bytes[need(1)])); break
      case 0x8d: { const n = view.getBigUint64(need(8), true); stack.push(text(Number(n))); break }
      case 0x4a: stack.push(view.getInt32(need(4), true)); break
      case 0x4b: stack.push(bytes[need(1)]); break
      case 0x4d: stack.push(view.getUint16(need(2), true)); break
      case 0x8a: { // LONG1: little-endian two's complement of n bytes
        const n = bytes[need(1)]
        const digits = bytes.subarray(need(n), pos)
        let v = 0n
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(digits[i])
        if (n && digits[n - 1] & 0x80) v -= 1n << BigInt(8 * n)
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)
        break
      }
      case 0x47: stack.push(view.getFloat64(need(8), false)); break // BINFLOAT is big-endian
      case 0x4e: stack.push(null); break
      case 0x88: stack.push(true); break
      case 0x89: stack.push(false); break
      case 0x63: { const module = line(); pushGlobal(module, line()); break } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop()
        const module = pop()
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name must be strings')
        pushGlobal(module, name)
        break
      }
      case 0x52: stack.push(reduce()); break
      case 0x62: { // BUILD: OrderedDict carries attributes (torch's `_metadata` versions), not items; drop them
        const state = pop()
        const target = top()
        if (!isNode(target, 'dict')) fail(`cannot BUILD a ${describe(target)}`)
        if (state !== null && !isNode(state, 'dict')) fail(`BUILD state is a ${describe(state)}`)
        break
      }
      case 0x51: stack.push({ kind: 'persistent', pid: pop() }); break
      case 0x71: memo.set(bytes[need(1)], top()); break
      case 0x72: memo.set(view.getUint32(need(4), true), top()); break
      case 0x94: memo.set(memo.size, top()); break
      case 0x68: stack.push(memoGet(bytes[need(1)])); break
      case 0x6a: stack.push(memoGet(view.getUint32(need(4), true))); break
      default:
        throw new PickleRefusedError(`${source}: refused pickle opcode ${opName()} at byte ${opPos}: not needed by a state dict; nothing was executed`)
    }
  }
}

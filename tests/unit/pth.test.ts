import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32, deflateRawSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parsePth } from '../../src/main/engine/checkpoint/pth'
import { readPth } from '../../src/main/data/checkpoint-files'
import { readSafetensors } from '../../src/main/data/checkpoint-files'
import { parityFixtureDir } from '../helpers/fixtures'

// ---- a tiny zip writer (stored or deflated entries, optional zip64 records), independent of the reader ----

interface ZipFileSpec {
  name: string
  data: Uint8Array
  deflate?: boolean
}

class Bytes {
  private readonly out: number[] = []
  get length(): number {
    return this.out.length
  }
  u16(v: number): this {
    this.out.push(v & 0xff, (v >>> 8) & 0xff)
    return this
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16)
  }
  u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32))
  }
  raw(b: Uint8Array | number[]): this {
    for (const x of b) this.out.push(x)
    return this
  }
  done(): Uint8Array {
    return Uint8Array.from(this.out)
  }
}

function buildZip(files: ZipFileSpec[], zip64 = false): Uint8Array {
  const FF = 0xffffffff
  const enc = new TextEncoder()
  const out = new Bytes()
  const central = new Bytes()
  for (const f of files) {
    const body = f.deflate ? new Uint8Array(deflateRawSync(f.data)) : f.data
    const name = enc.encode(f.name)
    const offset = out.length
    const local64 = new Bytes().u16(1).u16(16).u64(f.data.length).u64(body.length).done()
    out.u32(0x04034b50).u16(45).u16(0).u16(f.deflate ? 8 : 0).u16(0).u16(0).u32(crc32(f.data))
    out.u32(zip64 ? FF : body.length).u32(zip64 ? FF : f.data.length).u16(name.length).u16(zip64 ? local64.length : 0)
    out.raw(name).raw(zip64 ? local64 : []).raw(body)
    const central64 = new Bytes().u16(1).u16(24).u64(f.data.length).u64(body.length).u64(offset).done()
    central.u32(0x02014b50).u16(45).u16(45).u16(0).u16(f.deflate ? 8 : 0).u16(0).u16(0).u32(crc32(f.data))
    central.u32(zip64 ? FF : body.length).u32(zip64 ? FF : f.data.length).u16(name.length).u16(zip64 ? central64.length : 0)
    central.u16(0).u16(0).u16(0).u32(0).u32(zip64 ? FF : offset).raw(name).raw(zip64 ? central64 : [])
  }
  const cdOffset = out.length
  const cd = central.done()
  out.raw(cd)
  if (zip64) {
    const eocd64 = out.length
    out.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(files.length).u64(files.length).u64(cd.length).u64(cdOffset)
    out.u32(0x07064b50).u32(0).u64(eocd64).u32(1)
  }
  out.u32(0x06054b50).u16(0).u16(0).u16(zip64 ? 0xffff : files.length).u16(zip64 ? 0xffff : files.length)
  out.u32(zip64 ? FF : cd.length).u32(zip64 ? FF : cdOffset).u16(0)
  return out.done()
}

// ---- a tiny pickle writer: opcodes by their Python names ----

const OP = {
  PROTO: 0x80, FRAME: 0x95, STOP: 0x2e, MARK: 0x28, EMPTY_DICT: 0x7d, EMPTY_LIST: 0x5d, EMPTY_TUPLE: 0x29,
  TUPLE: 0x74, TUPLE1: 0x85, APPENDS: 0x65, SETITEM: 0x73, SETITEMS: 0x75, BINUNICODE: 0x58,
  SHORT_BINUNICODE: 0x8c, BININT1: 0x4b, BININT: 0x4a, LONG1: 0x8a, BINFLOAT: 0x47, NEWTRUE: 0x88,
  NEWFALSE: 0x89, GLOBAL: 0x63, STACK_GLOBAL: 0x93, REDUCE: 0x52, BUILD: 0x62, BINPERSID: 0x51,
  BINPUT: 0x71, MEMOIZE: 0x94, BINGET: 0x68
} as const

class PickleWriter {
  readonly b = new Bytes()
  private memoCount = 0
  private readonly memo = new Map<string, number>()

  constructor(readonly protocol: 2 | 4) {
    this.b.raw([OP.PROTO, protocol])
  }
  op(...codes: number[]): this {
    this.b.raw(codes)
    return this
  }
  str(s: string): this {
    const u = new TextEncoder().encode(s)
    if (this.protocol === 4 && u.length < 256) this.op(OP.SHORT_BINUNICODE, u.length).b.raw(u)
    else this.op(OP.BINUNICODE).b.u32(u.length).raw(u)
    return this
  }
  int(n: number): this {
    if (n < 256) return this.op(OP.BININT1, n)
    this.op(OP.BININT).b.u32(n)
    return this
  }
  float(x: number): this {
    const d = new DataView(new ArrayBuffer(8))
    d.setFloat64(0, x, false)
    return this.op(OP.BINFLOAT, ...new Uint8Array(d.buffer))
  }
  ints(xs: number[]): this {
    this.op(OP.MARK)
    xs.forEach((x) => this.int(x))
    return this.op(OP.TUPLE)
  }
  /** Names a global the way each protocol does, memoising it and reusing it by BINGET as torch does. */
  global(module: string, name: string): this {
    const key = `${module}.${name}`
    const index = this.memo.get(key)
    if (index !== undefined) return this.op(OP.BINGET, index)
    if (this.protocol === 4) this.str(module).str(name).op(OP.STACK_GLOBAL, OP.MEMOIZE)
    else this.op(OP.GLOBAL).b.raw(new TextEncoder().encode(`${module}\n${name}\n`)).raw([OP.BINPUT, this.memoCount])
    this.memo.set(key, this.memoCount++)
    return this
  }
  orderedDict(): this {
    return this.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, OP.REDUCE)
  }
  /** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks) */
  tensor(storageType: string, key: string, numel: number, offset: number, size: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').op(OP.MARK)
    this.op(OP.MARK).str('storage').global('torch', storageType).str(key).str('cpu').int(numel).op(OP.TUPLE, OP.BINPERSID)
    if (offset === 6) this.op(OP.LONG1, 1, 6) // exercise LONG1 as well as BININT1
    else this.int(offset)
    return this.ints(size).ints(stride).op(OP.NEWFALSE).orderedDict().op(OP.TUPLE, OP.REDUCE)
  }
  done(): Uint8Array {
    return this.op(OP.STOP).b.done()
  }
}

function checkpointZip(pickle: Uint8Array, storages: Record<string, Uint8Array> = {}, opts: { deflate?: boolean; zip64?: boolean } = {}): Uint8Array {
  const files: ZipFileSpec[] = [{ name: 'archive/data.pkl', data: pickle, deflate: opts.deflate }]
  files.push({ name: 'archive/byteorder', data: new TextEncoder().encode('little') })
  for (const [key, data] of Object.entries(storages)) files.push({ name: `archive/data/${key}`, data, deflate: opts.deflate })
  files.push({ name: 'archive/version', data: new TextEncoder().encode('3\n') })
  return buildZip(files, opts.zip64)
}

const bytesOf = (a: Float32Array | Uint16Array): Uint8Array => new Uint8Array(a.buffer)

// ---- tests ----

describe('readPth on the official fixture', () => {
  it('equals weights.safetensors: names, shapes and every value bit for bit', async () => {
    const dir = parityFixtureDir()
    const [pth, reference] = await Promise.all([readPth(join(dir, 'checkpoint.pth')), readSafetensors(join(dir, 'weights.safetensors'))])
    expect([...pth.keys()].sort()).toEqual([...reference.keys()].sort())
    expect(pth.size).toBeGreaterThan(100)
    for (const [name, ref] of reference) {
      const got = pth.get(name)!
      expect(got.shape, name).toEqual(ref.shape)
      expect(got.dtype, name).toBe('F32')
      const same = Buffer.compare(Buffer.from(bytesOf(got.data)), Buffer.from(bytesOf(ref.data))) === 0
      expect(same, `${name} differs bitwise`).toBe(true)
    }
  })
})

describe('readPth on hand-built checkpoints', () => {
  const storage0 = Float32Array.from({ length: 12 }, (_, i) => i) // 0..11
  const storage1 = Uint16Array.from([0x3e00, 0xc000]) // float16 1.5, -2

  /** {'state_dict': OrderedDict(...) with torch's _metadata, 'epoch': 3, 'lr': 1e-3, 'milestones': [30, 60]} */
  function wrappedStateDict(protocol: 2 | 4): Uint8Array {
    const p = new PickleWriter(protocol)
    if (protocol === 4) p.op(OP.FRAME, 0, 0, 0, 0, 0, 0, 0, 0)
    p.op(OP.EMPTY_DICT, OP.MARK).str('state_dict').orderedDict().op(OP.MARK)
    p.str('t').tensor('FloatStorage', '0', 12, 1, [3, 2], [1, 3]) // a transposed view at offset 1
    p.str('every_other').tensor('FloatStorage', '0', 12, 6, [2], [2])
    p.str('permuted').tensor('FloatStorage', '0', 12, 0, [2, 2, 2], [1, 4, 2])
    p.str('scalar').tensor('FloatStorage', '0', 12, 11, [], [])
    p.str('bias').global('torch._utils', '_rebuild_parameter')
    p.op(OP.MARK).tensor('HalfStorage', '1', 2, 0, [2], [1]).op(OP.NEWTRUE).orderedDict().op(OP.TUPLE, OP.REDUCE)
    p.op(OP.SETITEMS)
    p.op(OP.EMPTY_DICT).str('_metadata').op(OP.EMPTY_DICT, OP.SETITEM, OP.BUILD) // OrderedDict state: attributes, dropped
    p.str('epoch').int(3).str('lr').float(1e-3).str('milestones').op(OP.EMPTY_LIST, OP.MARK).int(30).int(60).op(OP.APPENDS)
    return p.op(OP.SETITEMS).done()
  }

  const variants = [
    { label: 'protocol 2, stored', protocol: 2, deflate: false, zip64: false },
    { label: 'protocol 4, deflated', protocol: 4, deflate: true, zip64: false },
    { label: 'protocol 2, zip64 records', protocol: 2, deflate: false, zip64: true }
  ] as const

  it.each(variants)('materialises offsets, strides and dtypes ($label)', ({ protocol, deflate, zip64 }) => {
    const zip = checkpointZip(wrappedStateDict(protocol), { 0: bytesOf(storage0), 1: bytesOf(storage1) }, { deflate, zip64 })
    const dict = parsePth(zip, 'hand.pth')
    expect([...dict.keys()]).toEqual(['t', 'every_other', 'permuted', 'scalar', 'bias'])
    // t[i][j] = storage[1 + i + 3j]
    expect(dict.get('t')).toEqual({ shape: [3, 2], dtype: 'F32', data: Float32Array.from([1, 4, 2, 5, 3, 6]) })
    expect(dict.get('every_other')!.data).toEqual(Float32Array.from([6, 8]))
    // permuted[i][j][k] = storage[i + 4j + 2k]
    expect(dict.get('permuted')!.data).toEqual(Float32Array.from([0, 2, 4, 6, 1, 3, 5, 7]))
    expect(dict.get('scalar')).toEqual({ shape: [], dtype: 'F32', data: Float32Array.from([11]) })
    expect(dict.get('bias')).toEqual({ shape: [2], dtype: 'F16', data: Float32Array.from([1.5, -2]) })
  })

  it('refuses a view that reaches past its storage', () => {
    const p = new PickleWriter(2).op(OP.EMPTY_DICT).str('w').tensor('FloatStorage', '0', 12, 4, [3, 3], [3, 1]).op(OP.SETITEM)
    expect(() => parsePth(checkpointZip(p.done(), { 0: bytesOf(storage0) }), 'over.pth')).toThrow(/over\.pth: tensor "w" reaches element 12/)
  })

  it('refuses a dict entry that is not a tensor, and a top level that is not a dict', () => {
    const entry = new PickleWriter(2).op(OP.EMPTY_DICT).str('step').int(5).op(OP.SETITEM).done()
    expect(() => parsePth(checkpointZip(entry), 'n.pth')).toThrow(/n\.pth: refused: entry "step" is a number, not a tensor/)
    const list = new PickleWriter(2).op(OP.EMPTY_LIST).done()
    expect(() => parsePth(checkpointZip(list), 'l.pth')).toThrow(/l\.pth: refused: the pickled top level is a list/)
  })
})

describe('readPth refuses code', () => {
  let dir: string
  let sentinel: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pth-'))
    sentinel = join(dir, 'pwned')
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  // Both pickles are what an attacker would ship: under Python's pickle.loads they create `sentinel`.
  it('refuses GLOBAL os.system + REDUCE, naming the file, opcode and global; nothing runs', async () => {
    const p = new Bytes().raw([OP.PROTO, 2, OP.GLOBAL]).raw(new TextEncoder().encode('os\nsystem\n'))
    const cmd = new TextEncoder().encode(`touch ${sentinel}`)
    p.raw([OP.BINUNICODE]).u32(cmd.length).raw(cmd).raw([OP.TUPLE1, OP.REDUCE, OP.STOP])
    const path = join(dir, 'evil.pth')
    await writeFile(path, checkpointZip(p.done()))
    await expect(readPth(path)).rejects.toThrow(new RegExp(`${path}: refused pickle opcode GLOBAL at byte 2: global os\\.system is not allowed`))
    expect(existsSync(sentinel)).toBe(false)
  })

  it('refuses STACK_GLOBAL builtins.eval', async () => {
    const p = new PickleWriter(4).str('builtins').str('eval').op(OP.STACK_GLOBAL)
    p.str(`open(${JSON.stringify(sentinel)}, 'w')`).op(OP.TUPLE1, OP.REDUCE)
    expect(() => parsePth(checkpointZip(p.done()), 'eval.pth')).toThrow(/eval\.pth: refused pickle opcode STACK_GLOBAL .*builtins\.eval/)
    expect(existsSync(sentinel)).toBe(false)
  })

  it('refuses REDUCE on an allowed global that is not a constructor, and unknown opcodes', () => {
    const p = new PickleWriter(2).global('torch', 'FloatStorage').op(OP.EMPTY_TUPLE, OP.REDUCE)
    expect(() => parsePth(checkpointZip(p.done()), 's.pth')).toThrow(/s\.pth: refused pickle opcode REDUCE .*torch\.FloatStorage may not be called/)
    const newobj = new PickleWriter(2).global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE, 0x81) // NEWOBJ
    expect(() => parsePth(checkpointZip(newobj.done()), 'o.pth')).toThrow(/o\.pth: refused pickle opcode NEWOBJ/)
  })
})

describe('readPth on damaged files', () => {
  it('names the file for a truncated zip, a non-zip, a missing data.pkl and a corrupt storage', async () => {
    const real = new Uint8Array(await readFile(join(parityFixtureDir(), 'checkpoint.pth')))
    expect(() => parsePth(real.subarray(0, real.length >> 1), 'cut.pth')).toThrow(/cut\.pth: not a zip archive, or truncated/)
    expect(() => parsePth(new TextEncoder().encode('definitely not a zip file, just text'), 'text.pth')).toThrow(/text\.pth: not a zip archive/)
    const noPickle = buildZip([{ name: 'archive/version', data: new TextEncoder().encode('3\n') }])
    expect(() => parsePth(noPickle, 'empty.pth')).toThrow(/empty\.pth: .*no <archive>\/data\.pkl/)
    const corrupt = real.slice()
    corrupt[real.length >> 1] ^= 0x01 // inside some storage
    expect(() => parsePth(corrupt, 'bad.pth')).toThrow(/bad\.pth: zip archive entry checkpoint\/data\/\d+ fails its CRC-32 check/)
  })
})

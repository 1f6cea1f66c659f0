/**
 * Read-only zip archive access over an in-memory buffer: enough for `torch.save` files (stored or
 * deflated entries, zip64 sizes and offsets). Entries are located through the central directory, and
 * each one is checked against its CRC-32 when read, so a damaged checkpoint fails loudly.
 */
import { crc32, inflateRawSync } from 'node:zlib'

const SIG_EOCD = 0x06054b50
const SIG_EOCD64 = 0x06064b50
const SIG_EOCD64_LOCATOR = 0x07064b50
const SIG_CENTRAL = 0x02014b50
const SIG_LOCAL = 0x04034b50
const EOCD_SIZE = 22
const MAX_COMMENT = 0xffff
const ZIP64_EXTRA_ID = 0x0001
const U16_MAX = 0xffff
const U32_MAX = 0xffffffff
const METHOD_STORED = 0
const METHOD_DEFLATED = 8

export interface ZipEntry {
  name: string
  method: number
  crc32: number
  compressedSize: number
  size: number
  localHeaderOffset: number
}

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true)
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`64-bit zip field ${v} is too large`)
  return Number(v)
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>()
  private readonly view: DataView

  constructor(
    private readonly buf: Uint8Array,
    private readonly source: string
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
    const eocd = this.findEndOfCentralDirectory()
    let count = this.view.getUint16(eocd + 10, true)
    let cdSize = this.view.getUint32(eocd + 12, true)
    let cdOffset = this.view.getUint32(eocd + 16, true)
    if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
      ;({ count, cdSize, cdOffset } = this.readZip64End(eocd))
    }
    if (cdOffset + cdSize > buf.byteLength) this.fail('central directory lies beyond the end of the file (truncated?)')
    let at = cdOffset
    for (let i = 0; i < count; i++) {
      const { entry, next } = this.readCentralEntry(at)
      this.entries.set(entry.name, entry)
      at = next
    }
  }

  /** The entry's uncompressed bytes, CRC-checked. Stored entries are returned as a view, not a copy. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name)
    if (!entry) this.fail(`has no entry ${name}`)
    const at = entry.localHeaderOffset
    if (at + 30 > this.buf.byteLength || this.view.getUint32(at, true) !== SIG_LOCAL) {
      this.fail(`entry ${name} has no local header at offset ${at} (truncated or corrupt)`)
    }
    // The local extra field may differ in length from the central one (torch pads it for alignment).
    const dataStart = at + 30 + this.view.getUint16(at + 26, true) + this.view.getUint16(at + 28, true)
    if (dataStart + entry.compressedSize > this.buf.byteLength) this.fail(`entry ${name} is truncated`)
    const raw = this.buf.subarray(dataStart, dataStart + entry.compressedSize)
    let data: Uint8Array
    if (entry.method === METHOD_STORED) data = raw
    else if (entry.method === METHOD_DEFLATED) {
      try {
        data = inflateRawSync(raw)
      } catch (err) {
        this.fail(`entry ${name} does not inflate (${(err as Error).message})`)
      }
    } else this.fail(`entry ${name} uses unsupported compression method ${entry.method}`)
    if (data.byteLength !== entry.size) this.fail(`entry ${name} has ${data.byteLength} bytes, expected ${entry.size}`)
    if (crc32(data) !== entry.crc32) this.fail(`entry ${name} fails its CRC-32 check (corrupt)`)
    return data
  }

  private fail(message: string): never {
    throw new Error(`${this.source}: zip archive ${message}`)
  }

  private findEndOfCentralDirectory(): number {
    const last = this.buf.byteLength - EOCD_SIZE
    const first = Math.max(0, last - MAX_COMMENT)
    for (let at = last; at >= first; at--) {
      if (this.view.getUint32(at, true) === SIG_EOCD) return at
    }
    throw new Error(`${this.source}: not a zip archive, or truncated (no end-of-central-directory record)`)
  }

  private readZip64End(eocd: number): { count: number; cdSize: number; cdOffset: number } {
    const locator = eocd - 20
    if (locator < 0 || this.view.getUint32(locator, true) !== SIG_EOCD64_LOCATOR) this.fail('lacks its zip64 locator')
    const at = u64(this.view, locator + 8)
    if (at + 56 > this.buf.byteLength || this.view.getUint32(at, true) !== SIG_EOCD64) this.fail('zip64 end record is missing')
    return { count: u64(this.view, at + 32), cdSize: u64(this.view, at + 40), cdOffset: u64(this.view, at + 48) }
  }

  private readCentralEntry(at: number): { entry: ZipEntry; next: number } {
    if (at + 46 > this.buf.byteLength || this.view.getUint32(at, true) !== SIG_CENTRAL) {
      this.fail(`central directory is corrupt at offset ${at}`)
    }
    const flags = this.view.getUint16(at + 8, true)
    const nameLen = this.view.getUint16(at + 28, true)
    const extraLen = this.view.getUint16(at + 30, true)
    const commentLen = this.view.getUint16(at + 32, true)
    const name = new TextDecoder().decode(this.buf.subarray(at + 46, at + 46 + nameLen))
    if (flags & 1) this.fail(`entry ${name} is encrypted`)
    const entry: ZipEntry = {
      name,
      method: this.view.getUint16(at + 10, true),
      crc32: this.view.getUint32(at + 16, true),
      compressedSize: this.view.getUint32(at + 20, true),
      size: this.view.getUint32(at + 24, true),
      localHeaderOffset: this.view.getUint32(at + 42, true)
    }
    this.applyZip64Extra(entry, at + 46 + nameLen, extraLen)
    return { entry, next: at + 46 + nameLen + extraLen + commentLen }
  }

  /** Zip64 puts 64-bit values, in this order, only for the fields whose 32-bit slot reads 0xFFFFFFFF. */
  private applyZip64Extra(entry: ZipEntry, start: number, length: number): void {
    const wide = (['size', 'compressedSize', 'localHeaderOffset'] as const).filter((k) => entry[k] === U32_MAX)
    if (!wide.length) return
    for (let at = start; at + 4 <= start + length; ) {
      const id = this.view.getUint16(at, true)
      const size = this.view.getUint16(at + 2, true)
      if (id === ZIP64_EXTRA_ID) {
        if (size < wide.length * 8) this.fail(`entry ${entry.name} has a short zip64 extra field`)
        wide.forEach((k, i) => (entry[k] = u64(this.view, at + 4 + i * 8)))
        return
      }
      at += 4 + size
    }
    this.fail(`entry ${entry.name} needs a zip64 extra field but has none`)
  }
}

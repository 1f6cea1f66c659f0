import { spawn } from 'node:child_process'
import type { FileHandle } from 'node:fs/promises'
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { appendLine, readJsonl, writeFileAtomic, writeJsonAtomic } from '../../src/main/util/atomic'

/** Fault injection into node:fs/promises `open`: a full disk, and a count of write calls. */
const fault = vi.hoisted(() => ({ fullDiskAfter: -1, writeCalls: 0 }))

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>()
  const open = async (...args: Parameters<typeof real.open>): Promise<FileHandle> => {
    const handle = await real.open(...args)
    const write = handle.write.bind(handle) as (b: Uint8Array, offset?: number) => Promise<{ bytesWritten: number }>
    handle.write = ((b: Uint8Array, offset?: number) => {
      fault.writeCalls++
      return write(b, offset)
    }) as FileHandle['write']
    if (fault.fullDiskAfter >= 0) {
      // writes the first bytes, then fails as a full disk does
      handle.writeFile = (async (data: Uint8Array | string) => {
        await write(Buffer.from(data).subarray(0, fault.fullDiskAfter))
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      }) as FileHandle['writeFile']
    }
    return handle
  }
  return { ...real, open, default: { ...real, open } }
})

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'atomic-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))
afterEach(() => {
  fault.fullDiskAfter = -1
})

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp behind', async () => {
    const path = join(dir, 'a.json')
    await writeJsonAtomic(path, { v: 1 })
    await writeJsonAtomic(path, { v: 2, list: [1, 2] })
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ v: 2, list: [1, 2] })
    await writeFileAtomic(path, new Uint8Array([0, 255, 7]))
    expect([...(await readFile(path))]).toEqual([0, 255, 7])
    expect(await readdir(dir)).toEqual(['a.json'])
  })

  it('on a full disk keeps the old content intact and removes its temp', async () => {
    const sub = join(dir, 'full')
    await mkdir(sub)
    const path = join(sub, 'state.json')
    await writeFile(path, 'old content')
    fault.fullDiskAfter = 3
    await expect(writeFileAtomic(path, 'new content that does not fit')).rejects.toThrow(/ENOSPC/)
    // the target (not the temp) and the size are named
    await expect(writeFileAtomic(path, 'new content that does not fit')).rejects.toThrow(`${path}: no space left on the device (ENOSPC, writing 29 B); free some space`)
    expect(await readFile(path, 'utf8')).toBe('old content')
    expect(await readdir(sub)).toEqual(['state.json'])
  })

  it('removes its temp when the rename fails', async () => {
    const sub = join(dir, 'rename')
    await mkdir(join(sub, 'target'), { recursive: true }) // a directory where the file should go
    await expect(writeFileAtomic(join(sub, 'target'), 'x')).rejects.toThrow()
    expect(await readdir(sub)).toEqual(['target'])
  })
})

describe('appendLine and readJsonl', () => {
  it('writes each line with exactly one write call and reads the rows back', async () => {
    const path = join(dir, 'log.jsonl')
    fault.writeCalls = 0
    for (let step = 0; step < 5; step++) await appendLine(path, JSON.stringify({ step }))
    expect(fault.writeCalls).toBe(5)
    expect(await readJsonl(path)).toEqual({ rows: [0, 1, 2, 3, 4].map((step) => ({ step })), skipped: [] })
    await expect(appendLine(path, '{"a":\n1}')).rejects.toThrow(/contains a newline/)
  })

  it('skips and reports a truncated final line; the next append starts on a fresh line', async () => {
    const path = join(dir, 'cut.jsonl')
    await writeFile(path, '{"step":1}\n{"step":2}\n{"step":3,"lo')
    expect(await readJsonl(path)).toEqual({
      rows: [{ step: 1 }, { step: 2 }],
      skipped: [expect.objectContaining({ line: 3, text: '{"step":3,"lo' })]
    })
    await appendLine(path, JSON.stringify({ step: 3 }))
    const { rows, skipped } = await readJsonl<{ step: number }>(path)
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3])
    expect(skipped.map((s) => s.line)).toEqual([3])
  })

  it('a writer killed mid-stream leaves only complete rows, in order, plus at most one fragment', async () => {
    const path = join(dir, 'killed.jsonl')
    const child = join(dir, 'writer.mts')
    const atomic = fileURLToPath(new URL('../../src/main/util/atomic.ts', import.meta.url))
    await writeFile(
      child,
      `import { appendLine } from ${JSON.stringify(atomic)}\n` +
        `const pad = 'x'.repeat(4000)\n` +
        `for (let step = 0; ; step++) { await appendLine(${JSON.stringify(path)}, JSON.stringify({ step, pad })); if (step === 50) console.log('go') }\n`
    )
    const proc = spawn(process.execPath, ['--import', 'tsx', child], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()))
    await new Promise((r) => setTimeout(r, 100))
    proc.kill('SIGKILL')
    await new Promise((r) => proc.once('exit', r))
    const { rows, skipped } = await readJsonl<{ step: number }>(path)
    expect(rows.length).toBeGreaterThan(50)
    expect(rows.map((r) => r.step)).toEqual(rows.map((_, i) => i))
    expect(skipped.length).toBeLessThanOrEqual(1)
    if (skipped.length) expect(skipped[0].line).toBe(rows.length + 1)
  })
})

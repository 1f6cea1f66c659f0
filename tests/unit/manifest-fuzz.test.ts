/**
 * Property-based fuzz of the manifest readers (fast-check): whatever bytes a manifest holds, reading it
 * either yields rows or fails with a ManifestError that names the file; nothing else is ever thrown. The
 * streamed JSON reader yields exactly what JSON.parse finds, wherever the chunk boundaries fall, and keeps
 * memory bounded whatever the file's size.
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { audioSetSource } from '../../src/main/data/importers/audioset'
import { cavMaeSource } from '../../src/main/data/importers/cavmae-json'
import { streamJsonArray } from '../../src/main/data/importers/json-stream'
import type { ManifestSource } from '../../src/main/data/importers/manifest-import'
import { ManifestError, readClassLabels } from '../../src/main/data/importers/manifest-reader'
import { vggSoundSource } from '../../src/main/data/importers/vggsound'

const dir = mkdtempSync(join(tmpdir(), 'equiav-fuzz-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function file(text: string | Uint8Array): string {
  const path = join(dir, `m-${n++}`)
  writeFileSync(path, text)
  return path
}

const CLASSES = { names: ['Speech', 'Dog'], mids: ['/m/09x0r', '/m/0bt9lr'] }

/** Reads every row; returns 'ok' or the ManifestError, and lets anything else escape (the property fails). */
async function outcome(read: () => AsyncIterable<unknown>, path: string): Promise<'ok' | ManifestError> {
  try {
    for await (const _ of read()) {
      // rows are checked by the import tests; here only how reading ends matters
    }
    return 'ok'
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err
    expect(err.message.startsWith(path)).toBe(true)
    expect(err.reason.length).toBeGreaterThan(0)
    return err
  }
}

const SOURCES: Record<string, (path: string) => ManifestSource> = {
  'AudioSet CSV': (p) => audioSetSource(p, CLASSES, 'train'),
  'VGGSound CSV': (p) => vggSoundSource(p),
  'CAV-MAE JSON': (p) => cavMaeSource(p, CLASSES, 'train')
}

/** Text close to a manifest: its own characters and fragments, with quotes, commas, braces, newlines, a BOM. */
const manifestish = fc
  .array(
    fc.oneof(
      fc.string(),
      fc.constantFrom('"', ',', '\n', '\r\n', '{', '}', '[', ']', ':', '\\', '\uFEFF', '#', ' ', '/m/09x0r', '"data"', '"video_id"', 'YTID', '1.5', '-3', 'NaN', 'train', 'test', '\u0000', '😀'),
      fc.string({ unit: 'binary' })
    ),
    { maxLength: 40 }
  )
  .map((parts) => parts.join(''))

const entry = fc.record({ video_id: fc.string({ minLength: 1 }), wav: fc.string(), video_path: fc.string(), labels: fc.constantFrom('/m/09x0r', '/m/0bt9lr', '/m/09x0r,/m/0bt9lr') })
const datafile = fc.tuple(fc.array(entry, { maxLength: 6 }), fc.constantFrom(undefined, 0, 1, 2, '\t')).map(([data, indent]) => JSON.stringify({ note: 'x', data, more: [{ a: '}' }] }, null, indent))

describe('manifest readers under fuzzing', () => {
  for (const [name, source] of Object.entries(SOURCES)) {
    it(`${name}: any text gives rows or a ManifestError naming the file`, async () => {
      await fc.assert(
        fc.asyncProperty(manifestish, async (text) => {
          const path = file(text)
          await outcome(() => source(path).rows(), path)
        }),
        { numRuns: 150 }
      )
    })
  }

  it('class_labels_indices.csv: any text gives classes or a ManifestError naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(manifestish, async (text) => {
        const path = file(text)
        await outcome(async function* () {
          yield await readClassLabels(path)
        }, path)
      }),
      { numRuns: 150 }
    )
  })

  it('CAV-MAE JSON: a valid datafile with one character inserted or deleted anywhere reads or fails by name', async () => {
    await fc.assert(
      fc.asyncProperty(datafile, fc.nat(), fc.constantFrom('', '"', ',', '{', '}', ']', '\\', 'x', '\n'), async (text, at, insert) => {
        const i = at % (text.length + 1)
        const path = file(text.slice(0, i) + insert + text.slice(i + (insert === '' ? 1 : 0)))
        await outcome(() => cavMaeSource(path, CLASSES, 'train').rows(), path)
      }),
      { numRuns: 200 }
    )
  })
})

describe('streamed JSON', () => {
  it('yields exactly JSON.parse(text).data, whatever the values, layout and chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.jsonValue(), fc.constantFrom(undefined, 1, '\t'), fc.integer({ min: 1, max: 64 }), async (data, other, indent, chunk) => {
        const text = JSON.stringify({ before: other, data, after: other }, null, indent)
        const path = file(text)
        const got: unknown[] = []
        for await (const v of streamJsonArray(path, 'data', chunk)) got.push(v)
        expect(got).toEqual((JSON.parse(text) as { data: unknown[] }).data)
      }),
      { numRuns: 200 }
    )
  })

  it('names a BOM, and places a syntax error by line and column', async () => {
    const bom = file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"data": []}')]))
    await expect(outcome(() => streamJsonArray(bom, 'data'), bom)).resolves.toMatchObject({ where: `${bom}:1:1`, reason: expect.stringMatching(/^starts with a UTF-8 byte-order mark \(BOM\)/) })
    const broken = file('{"data": [\n  {"a": 1},\n  {"a": 2} {"a": 3}\n]}')
    await expect(outcome(() => streamJsonArray(broken, 'data', 4), broken)).resolves.toMatchObject({ where: `${broken}:3:12`, reason: "not valid JSON (expected ',' or ']' after an entry)" })
  })

  it('keeps memory bounded: 650,000 entries (95 MB) read in a process whose heap is capped at 64 MB (the whole-file reader ran out of it)', async () => {
    const path = join(dir, 'big.json')
    const out = createWriteStream(path)
    out.write('{"data": [\n')
    const row = (i: number): string => JSON.stringify({ video_id: `vid${i}`, wav: `/data/audioset/audio/vid${i}.wav`, video_path: '/data/audioset/frames', labels: '/m/09x0r,/m/0bt9lr' })
    const N = 650_000
    for (let i = 0; i < N; i += 10_000) {
      const block = Array.from({ length: Math.min(10_000, N - i) }, (_, k) => row(i + k)).join(',\n')
      if (!out.write((i ? ',\n' : '') + block)) await new Promise<void>((r) => out.once('drain', () => r()))
    }
    await new Promise<void>((r) => out.end('\n]}\n', () => r()))
    const reader = resolve(__dirname, '../../src/main/data/importers/cavmae-json.ts')
    const script = `import { readCavMaeDatafile } from ${JSON.stringify(reader)}; let n = 0; for await (const _ of readCavMaeDatafile(${JSON.stringify(path)})) n++; console.log(n)`
    const run = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(Number(run.stdout.trim())).toBe(N)
  }, 120_000)
})

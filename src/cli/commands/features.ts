import { resolve } from 'node:path'
import { type Command, optionSpec, UsageError, str } from '../command'
import { EQUIAV_FBANK_OPTIONS } from '../../main/data/fbank'
import { fbankOfFile } from '../../main/data/features'
import { writeNpy } from '../../main/data/npy'

export const featuresFbankCommand: Command = {
  path: ['features', 'fbank'],
  summary: "write a file's raw Kaldi fbank (the official EquiAV audio features) as .npy",
  usage: [
    '  FILE                 any audio or video file ffmpeg reads (first audio channel, 16 kHz)',
    '  --out X.npy          output: float32 [frames, 128], not padded or normalised',
    '  --json               print a JSON summary on stdout'
  ].join('\n'),
  options: optionSpec(['out'], ['json']),
  async run(values, positionals) {
    if (positionals.length !== 1) throw new UsageError('give exactly one FILE')
    const out = str(values, 'out')
    if (!out) throw new UsageError('--out X.npy is required')
    const file = resolve(positionals[0])
    const bins = EQUIAV_FBANK_OPTIONS.numMelBins
    const fbank = await fbankOfFile(file)
    const frames = fbank.length / bins
    await writeNpy(resolve(out), fbank, [frames, bins])
    if (values.json) process.stdout.write(JSON.stringify({ file, out: resolve(out), frames, bins }) + '\n')
    else process.stderr.write(`${file}: ${frames} frames × ${bins} bins → ${resolve(out)}\n`)
    return 0
  }
}

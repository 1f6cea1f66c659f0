import { type OptionValues, UsageError, int, str } from '../command'
import type { InputNormChoice } from '../../main/data/input-norm'

/** --input-norm dataset|official, shared by the commands that read a dataset's cache. */
export function inputNormChoice(values: OptionValues): InputNormChoice | undefined {
  const choice = str(values, 'input-norm')
  if (choice === undefined || choice === 'dataset' || choice === 'official') return choice
  throw new UsageError('--input-norm must be dataset or official')
}

/** --img-size N: the frame side, a multiple of the 16-pixel patch. */
export function imgSizeOption(values: OptionValues): { imgSize?: number } {
  const imgSize = int(values, 'img-size')
  if (imgSize === undefined) return {}
  if (imgSize < 16 || imgSize % 16 !== 0 || imgSize > 1024) throw new UsageError('--img-size must be a multiple of 16 between 16 and 1024')
  return { imgSize }
}

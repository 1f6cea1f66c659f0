import { type OptionValues, UsageError, int } from '../command'

/** --img-size N: the frame side, a multiple of the 16-pixel patch. */
export function imgSizeOption(values: OptionValues): { imgSize?: number } {
  const imgSize = int(values, 'img-size')
  if (imgSize === undefined) return {}
  if (imgSize < 16 || imgSize % 16 !== 0 || imgSize > 1024) throw new UsageError('--img-size must be a multiple of 16 between 16 and 1024')
  return { imgSize }
}

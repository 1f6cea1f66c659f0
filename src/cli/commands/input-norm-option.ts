import { type OptionValues, UsageError, str } from '../command'
import type { InputNormChoice } from '../../main/data/input-norm'

/** --input-norm dataset|official, shared by the commands that read a dataset's cache. */
export function inputNormChoice(values: OptionValues): InputNormChoice | undefined {
  const choice = str(values, 'input-norm')
  if (choice === undefined || choice === 'dataset' || choice === 'official') return choice
  throw new UsageError('--input-norm must be dataset or official')
}

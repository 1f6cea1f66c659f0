import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

/** The model-parity fixture folder: EQUIAV_PARITY_FIXTURE, or the copy under tests/fixtures. */
export function parityFixtureDir(): string {
  return resolve(process.env.EQUIAV_PARITY_FIXTURE ?? join(here, '..', 'fixtures', 'equiav-parity'))
}

/** The Kaldi fbank fixture folder: EQUIAV_FBANK_FIXTURE, or the copy under tests/fixtures. */
export function fbankFixtureDir(): string {
  return resolve(process.env.EQUIAV_FBANK_FIXTURE ?? join(here, '..', 'fixtures', 'fbank'))
}

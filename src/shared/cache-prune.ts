/** What a prune of a dataset's caches freed, in words (`equiav dataset prune-cache` and the Datasets view). */
import type { CachePrune } from './contract'

/** KiB under a MiB, else MiB with one decimal */
export const byteSize = (bytes: number): string => (bytes < 1 << 20 ? `${Math.round(bytes / 1024)} KiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`)

/** 'playback/  3 files, 1.2 MiB freed' */
export const describeFreed = (f: CachePrune): string => `${`${f.folder}/`.padEnd(10)} ${f.files} ${f.files === 1 ? 'file' : 'files'}, ${byteSize(f.bytes)} freed`

/** one line per file that could not be removed */
export const describeFailed = (folders: readonly CachePrune[]): string[] => folders.flatMap((f) => f.failed.map((x) => `could not remove ${f.folder}/${x.file}: ${x.reason}`))

import { formatDuration } from './job-list'

/** A job's seconds left as the job lists show them: "ETA 1:05" (empty while none is known). */
export const formatEta = (s: number | null): string => (s === null ? '' : `ETA ${formatDuration(s)}`)

/** The job list as the Runs view shows it: what runs and waits, then the few that ended last; times as the user reads them. */
import type { Job } from '../../../shared/contract'

export const RECENT_JOBS = 5

/** Jobs newest first → the running and queued ones, the `recent` newest that ended, and the rest. */
export function groupJobs(jobs: readonly Job[], recent = RECENT_JOBS): { active: Job[]; recent: Job[]; older: Job[] } {
  const active = jobs.filter((j) => j.state === 'running' || j.state === 'queued')
  const ended = jobs.filter((j) => j.state !== 'running' && j.state !== 'queued')
  return { active, recent: ended.slice(0, recent), older: ended.slice(recent) }
}

/** A stopped job offers Resume until it has been resumed once (the server refuses a second time too). */
export const canResume = (j: Job): boolean => (j.state === 'cancelled' || j.state === 'failed') && j.resumedBy === null

/** h:mm:ss or m:ss */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const [h, m, r] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60]
  const mm = h ? String(m).padStart(2, '0') : String(m)
  return `${h ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`
}

/** the local time of day of an ISO time, with the date when it is not today */
export function formatClock(iso: string | null, now = new Date()): string {
  if (!iso) return ''
  const t = new Date(iso)
  const time = t.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false })
  return t.toDateString() === now.toDateString() ? time : `${t.toLocaleDateString()} ${time}`
}

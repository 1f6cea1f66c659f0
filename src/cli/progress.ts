/**
 * A terminal progress bar on stderr: bar, count, rate, ETA and free-form fields (loss…).
 * On a TTY it redraws one line; elsewhere (CI, pipes) it prints a plain line at most every few seconds.
 */
export interface ProgressBarOptions {
  label: string
  total: number
  unit?: string
  stream?: NodeJS.WriteStream
  /** minimum ms between non-TTY lines */
  plainIntervalMs?: number
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream
  private start = Date.now()
  private startCount = 0
  private lastPlain = 0
  private done = 0

  constructor(private readonly opts: ProgressBarOptions) {
    this.stream = opts.stream ?? process.stderr
  }

  /**
   * Starts the clock now with `count` units done: work finished before (a resumed run, or the unit whose
   * end brought the first report) is not timed, so the rate only counts units timed from here.
   */
  startAt(count: number): void {
    this.startCount = count
    this.done = count
    this.start = Date.now()
  }

  update(done: number, fields: Record<string, string> = {}): void {
    this.done = done
    const now = Date.now()
    const final = done >= this.opts.total
    const tty = Boolean(this.stream.isTTY)
    if (!tty && !final && now - this.lastPlain < (this.opts.plainIntervalMs ?? 5000)) return
    this.lastPlain = now
    const line = this.render(now, fields)
    if (tty) this.stream.write(`\r\x1b[2K${line}${final ? '\n' : ''}`)
    else this.stream.write(line + '\n')
  }

  finish(fields: Record<string, string> = {}): void {
    if (this.done < this.opts.total) this.update(this.opts.total, fields)
  }

  private render(now: number, fields: Record<string, string>): string {
    const { total, label, unit = 'it' } = this.opts
    const frac = total > 0 ? Math.min(1, this.done / total) : 1
    const width = 24
    const filled = Math.round(frac * width)
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled)
    const elapsed = (now - this.start) / 1000
    const rate = elapsed > 0 ? (this.done - this.startCount) / elapsed : 0
    const eta = rate > 0 ? (total - this.done) / rate : NaN
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${v}`).join('  ')
    return `${label} ${bar} ${this.done}/${total} ${unit}  ${rate.toFixed(2)} ${unit}/s  ETA ${formatDuration(eta)}${extra ? '  ' + extra : ''}`
  }
}

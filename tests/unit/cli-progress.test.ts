import { afterEach, describe, expect, it, vi } from 'vitest'
import { ProgressBar } from '../../src/cli/progress'

/** A non-TTY stream that keeps what was written. */
function capture(): { stream: NodeJS.WriteStream; lines: string[] } {
  const lines: string[] = []
  const stream = { isTTY: false, write: (s: string) => lines.push(s.trimEnd()) } as unknown as NodeJS.WriteStream
  return { stream, lines }
}

describe('ProgressBar (CLI)', () => {
  afterEach(() => vi.useRealTimers())

  it('times only the units after startAt: no rate from a unit that ended just before the first report', () => {
    vi.useFakeTimers({ now: 0 })
    const { stream, lines } = capture()
    const bar = new ProgressBar({ label: 'pretrain', total: 10, unit: 'step', stream, plainIntervalMs: 0 })
    vi.setSystemTime(1) // the first step's report arrives 1 ms after the bar is made
    bar.startAt(1)
    bar.update(1)
    expect(lines[0]).toBe('pretrain ██░░░░░░░░░░░░░░░░░░░░░░ 1/10 step  0.00 step/s  ETA --:--')
    vi.setSystemTime(4001) // two more steps in 4 s
    bar.update(3, { loss: '0.5' })
    expect(lines[1]).toBe('pretrain ███████░░░░░░░░░░░░░░░░░ 3/10 step  0.50 step/s  ETA 00:14  loss 0.5')
  })

  it('prints plain lines at most every plainIntervalMs, and always the last one', () => {
    vi.useFakeTimers({ now: 0 })
    const { stream, lines } = capture()
    const bar = new ProgressBar({ label: 'x', total: 3, stream, plainIntervalMs: 1000 })
    bar.startAt(0)
    vi.setSystemTime(1000)
    bar.update(1)
    vi.setSystemTime(1500)
    bar.update(2)
    vi.setSystemTime(1600)
    bar.update(3)
    expect(lines.map((l) => l.split(' ')[2])).toEqual(['1/3', '3/3'])
  })
})

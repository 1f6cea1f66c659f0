/**
 * `equiav serve` killed with SIGKILL while a pretraining job trains, then started again: the engine
 * process checkpoints when its server is gone, and the new server continues the job from there, so every
 * step is trained exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { processAlive } from '../../src/main/util/pid-lock'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-restart-'))
const servers: ChildProcess[] = []
afterAll(() => {
  for (const s of servers) if (s.exitCode === null) s.kill('SIGKILL')
  rmSync(workspace, { recursive: true, force: true })
})

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const got = await probe()
    if (got) return got
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Starts `equiav serve` and returns a caller of its API. */
async function serve(): Promise<{ child: ChildProcess; call: (method: string, input: unknown) => Promise<unknown> }> {
  const child = spawn(process.execPath, [bin, 'serve', '--workspace', workspace], { stdio: ['ignore', 'pipe', 'inherit'] })
  servers.push(child)
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  const url = new URL(await until('the server URL', () => /^http:\S+/m.exec(out)?.[0]))
  const token = url.searchParams.get('token')!
  const call = async (method: string, input: unknown): Promise<unknown> => {
    const r = await fetch(`${url.origin}/api/${method}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(input) })
    const body = (await r.json()) as unknown
    if (!r.ok) throw new Error(JSON.stringify(body))
    return body
  }
  return { child, call }
}

const metricsSteps = (run = 'r'): number[] => {
  const file = join(workspace, 'runs', run, 'metrics.jsonl')
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { step: number }).step)
}

interface Job {
  id: string
  state: string
  log: string[]
}

describe('a job when its server dies', () => {
  it('checkpoints, and the restarted server continues it: each step trained once', async () => {
    const first = await serve()
    const job = (await first.call('jobs.start', { kind: 'pretrain', args: { run: 'r', steps: 8, batchSize: 4, checkpointEvery: 100, syntheticClips: 16 } })) as Job
    await until('two steps', () => metricsSteps().length >= 2)
    first.child.kill('SIGKILL')
    const record = (): { engine?: number } => JSON.parse(readFileSync(join(workspace, 'jobs', `${job.id}.json`), 'utf8')) as { engine?: number }
    const engine = record().engine!
    await until('the orphaned engine process to checkpoint and exit', () => !processAlive(engine))
    const checkpoints = readdirSync(join(workspace, 'runs', 'r', 'checkpoints'))
    expect(checkpoints).toHaveLength(1) // written on the way out: the interval (100 steps) was never reached
    const stoppedAt = Number(checkpoints[0].replace('step-', ''))
    expect(metricsSteps()).toEqual(Array.from({ length: stoppedAt }, (_, i) => i + 1))

    const second = await serve()
    const done = await until('the job to finish', async () => {
      const j = ((await second.call('jobs.list', {})) as Job[]).find((x) => x.id === job.id)
      return j && j.state !== 'queued' && j.state !== 'running' && j
    })
    expect(done.state).toBe('done')
    expect(done.log.join('\n')).toMatch(/continuing it from its last checkpoint/)
    expect(done.log.join('\n')).toMatch(new RegExp(`from its checkpoint at step ${stoppedAt}`))
    expect(metricsSteps()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])

    // stopped with SIGTERM (or Ctrl-C) while training: the server exits at once and leaves the job to the next one
    const next = (await second.call('jobs.start', { kind: 'pretrain', args: { run: 'r2', steps: 6, batchSize: 4, checkpointEvery: 100, syntheticClips: 16 } })) as Job
    await until('two steps of r2', () => metricsSteps('r2').length >= 2)
    second.child.kill('SIGTERM')
    await until('the server to exit', () => second.child.exitCode !== null, 30_000)
    const engine2 = (JSON.parse(readFileSync(join(workspace, 'jobs', `${next.id}.json`), 'utf8')) as { engine: number; state: string })
    expect(engine2.state).toBe('running')
    await until('its engine process to checkpoint and exit', () => !processAlive(engine2.engine))
    expect(readdirSync(join(workspace, 'runs', 'r2', 'checkpoints'))).toHaveLength(1)
    const third = await serve()
    await until('r2 to finish', async () => ((await third.call('jobs.list', {})) as Job[]).find((x) => x.id === next.id && x.state === 'done'))
    expect(metricsSteps('r2')).toEqual([1, 2, 3, 4, 5, 6])
    third.child.kill('SIGTERM')
  }, 300_000)
})

/**
 * A prepare worker killed as the OOM killer would: the command fails within seconds naming the signal
 * (it used to exit 13 with no message, and a serve job stayed "running"); pretraining then refuses the
 * partly prepared dataset unless --allow-partial; the next prepare reclaims unindexed shard files.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { CacheIndex } from '../../src/main/data/cache-format'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-pfault-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))
const env = { ...process.env, EQUIAV_BACKEND: 'wasm' }

function cacheFolder(): string | null {
  const root = join(workspace, 'datasets', 'demo', 'cache')
  const key = existsSync(root) ? readdirSync(root)[0] : undefined
  return key ? join(root, key) : null
}

function indexedShards(): number {
  const dir = cacheFolder()
  if (!dir || !existsSync(join(dir, 'index.json'))) return 0
  return (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as CacheIndex).shards.length
}

function children(pid: number): number[] {
  return spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout.split('\n').map(Number).filter((n) => n > 0)
}

const equiav = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [bin, ...args, '--workspace', workspace], { encoding: 'utf8', env })

describe('prepare worker killed', () => {
  it('fails the command with the signal, refuses a partial dataset for pretraining, and reclaims orphan shards', async () => {
    expect(equiav('dataset', 'create-demo', '--clips', '80').status).toBe(0)
    const cli: ChildProcess = spawn(process.execPath, [bin, 'dataset', 'prepare', '--name', 'demo', '--workers', '1', '--workspace', workspace], { env, stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((r) => cli.once('exit', (code) => r(code)))
    // once the first shard is indexed, kill the workers (a finished one may still be exiting, so keep
    // killing until the command ends: the one building the next shard is among them)
    const deadline = Date.now() + 90_000
    while (Date.now() < deadline && indexedShards() < 1) await new Promise((r) => setTimeout(r, 50))
    expect(indexedShards()).toBeGreaterThanOrEqual(1)
    const killedAt = Date.now()
    let code: number | null | undefined
    void exited.then((c) => (code = c))
    while (code === undefined && Date.now() - killedAt < 10_000) {
      for (const pid of children(cli.pid!)) process.kill(pid, 'SIGKILL')
      await new Promise((r) => setTimeout(r, 20))
    }
    await exited
    expect(Date.now() - killedAt).toBeLessThan(10_000)
    expect(code).toBe(1)
    expect(stderr).toMatch(/the prepare worker \(pid \d+\) for .*shard-\d+\.bin was killed by SIGKILL \(out of memory\?\) before finishing its \d+ clips/)

    const cached = indexedShards() * 32
    const refused = equiav('pretrain', '--dataset', 'demo', '--steps', '1', '--run', 'partial')
    expect(refused.status).toBe(1)
    expect(refused.stderr).toMatch(new RegExp(`dataset "demo" is only partly prepared for the tiny preset: (\\d+) of (\\d+) usable train clips are cached in .*pass --allow-partial to train on the \\1 cached`))
    const [, have, of] = /(\d+) of (\d+) usable train clips/.exec(refused.stderr as string)!.map(Number)
    expect(have).toBeLessThanOrEqual(cached)
    expect(have).toBeLessThan(of)
    const allowed = equiav('pretrain', '--dataset', 'demo', '--steps', '1', '--run', 'partial', '--allow-partial')
    expect(allowed.status, allowed.stderr as string).toBe(0)

    // a shard written but never indexed (a kill between the two) is reclaimed by the next prepare
    const orphan = join(cacheFolder()!, 'shard-999999.bin')
    writeFileSync(orphan, 'written by a process killed before it indexed me')
    const again = equiav('dataset', 'prepare', '--name', 'demo')
    expect(again.status, again.stderr as string).toBe(0)
    expect(again.stderr).toMatch(/removed 1 unindexed file\(s\) left by an interrupted prepare \(shard-999999\.bin\)/)
    expect(existsSync(orphan)).toBe(false)
    const index = JSON.parse(readFileSync(join(cacheFolder()!, 'index.json'), 'utf8')) as CacheIndex
    expect(new Set(index.shards.flatMap((s) => s.ids)).size + index.failures.length).toBe(80)
  }, 240_000)
})

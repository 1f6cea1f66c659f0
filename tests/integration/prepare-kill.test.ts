/**
 * `equiav dataset prepare` killed with SIGKILL part-way, then run again: every clip ends up in the cache
 * exactly once and the shards finished before the kill are not rebuilt.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { CacheIndex } from '../../src/main/data/cache-format'

const bin = resolve(__dirname, '../../bin/equiav.mjs')
const workspace = mkdtempSync(join(tmpdir(), 'equiav-kill-'))
afterAll(() => rmSync(workspace, { recursive: true, force: true }))

const cacheIndex = (): string => {
  const dir = join(workspace, 'datasets', 'demo', 'cache')
  if (!existsSync(dir)) return ''
  const key = spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.trim().split('\n')[0]
  return key ? join(dir, key, 'index.json') : ''
}

describe('dataset prepare after a kill', () => {
  it('resumes without losing or duplicating clips', async () => {
    const build = spawnSync(process.execPath, [bin, 'dataset', 'create-demo', '--clips', '90', '--workspace', workspace], { encoding: 'utf8' })
    expect(build.status, build.stderr).toBe(0)

    const child: ChildProcess = spawn(process.execPath, [bin, 'dataset', 'prepare', '--name', 'demo', '--workers', '1', '--workspace', workspace], { stdio: 'ignore' })
    // wait until the first shard is indexed, then kill without warning
    const deadline = Date.now() + 60_000
    let firstShards: CacheIndex['shards'] = []
    while (Date.now() < deadline) {
      const path = cacheIndex()
      if (path && existsSync(path)) {
        firstShards = (JSON.parse(readFileSync(path, 'utf8')) as CacheIndex).shards
        if (firstShards.length >= 1) break
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    expect(firstShards.length).toBeGreaterThanOrEqual(1)
    const before = (JSON.parse(readFileSync(cacheIndex(), 'utf8')) as CacheIndex).shards // the state the kill left
    const done = before.flatMap((s) => s.ids).length
    const total = 90
    expect(done).toBeLessThan(total) // it really was cut short
    const shardFile = join(cacheIndex(), '..', before[0].file)
    const mtime = statSync(shardFile).mtimeMs

    const again = spawnSync(process.execPath, [bin, 'dataset', 'prepare', '--name', 'demo', '--workspace', workspace, '--json'], { encoding: 'utf8' })
    expect(again.status, again.stderr).toBe(0)
    const index = JSON.parse(readFileSync(cacheIndex(), 'utf8')) as CacheIndex
    const ids = index.shards.flatMap((s) => s.ids)
    expect(ids.length).toBe(total)
    expect(new Set(ids).size).toBe(total)
    expect(statSync(shardFile).mtimeMs).toBe(mtime) // finished before the kill: not rebuilt
    const summary = JSON.parse(again.stdout) as { skipped: number }
    expect(summary.skipped).toBe(done)
  })
})

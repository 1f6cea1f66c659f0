/**
 * The layered house (docs/architecture.md): eslint refuses every import arrow that must not exist, and
 * src/ has no import cycle (type-only and dynamic imports included).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const repo = resolve(__dirname, '../..')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sources(path)
    return /\.(ts|vue)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : []
  })
}

/** Every relative module a file names: import / export … from, and import('…'). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1])
  return specs.flatMap((spec) => {
    const base = resolve(dirname(file), spec)
    const found = [base, `${base}.ts`, join(base, 'index.ts')].find((p) => /\.(ts|vue)$/.test(p) && existsSync(p) && statSync(p).isFile())
    return found ? [found] : []
  })
}

/** The import graph's cycles, each as a list of files (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0
  const order = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string): void => {
    order.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!order.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!))
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component)
    }
  }
  for (const v of graph.keys()) if (!order.has(v)) visit(v)
  return found
}

describe('import cycles', () => {
  it('src/ has none', () => {
    const graph = new Map(sources(join(repo, 'src')).map((f) => [f, importsOf(f)]))
    expect(graph.size).toBeGreaterThan(100)
    const named = cycles(graph).map((c) => c.map((f) => relative(repo, f)).sort())
    expect(named).toEqual([])
  })

  it('the finder reports a cycle, and only the files on it', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]])).map((c) => c.sort())).toEqual([['a', 'b', 'c']])
  })
})

describe('eslint refuses the arrows that must not exist', () => {
  const eslint = new ESLint({ cwd: repo })
  async function refused(file: string, from: string): Promise<boolean> {
    const [result] = await eslint.lintText(`import { x } from '${from}'\nexport const y = x\n`, { filePath: join(repo, file) })
    return result.messages.some((m) => m.ruleId === 'no-restricted-imports')
  }

  it.each([
    ['src/main/engine/train/new.ts', 'node:fs'],
    ['src/main/engine/train/new.ts', 'node:fs/promises'],
    ['src/main/engine/train/new.ts', 'node:child_process'],
    ['src/main/engine/train/new.ts', '../../data/catalog'],
    ['src/main/engine/train/new.ts', '../../runs/checkpoints'],
    ['src/main/engine/train/new.ts', '../../workflows/pretrain'],
    ['src/main/engine/train/new.ts', '../../jobs/protocol'],
    ['src/main/engine/train/new.ts', '../../api/router'],
    ['src/main/engine/train/new.ts', '../../util/atomic'],
    ['src/main/engine/new.ts', '../workspace'],
    ['src/main/data/new.ts', '../workflows/pretrain'],
    ['src/main/data/new.ts', '../jobs/protocol'],
    ['src/main/data/new.ts', '../api/router'],
    ['src/main/runs/new.ts', '../workflows/finetune'],
    ['src/main/runs/new.ts', '../jobs/runner'],
    ['src/main/runs/new.ts', '../api/services/runs'],
    ['src/main/workflows/new.ts', '../jobs/protocol'],
    ['src/main/workflows/new.ts', '../api/router'],
    ['src/main/jobs/new.ts', '../api/router'],
    ['src/main/api/new.ts', '../../cli/command'],
    ['src/shared/new.ts', '../main/engine/config'],
    ['src/renderer/src/new.ts', '../../main/engine/config'],
    ['src/renderer/src/new.ts', '../../cli/command']
  ])('%s importing %s', async (file, from) => {
    expect(await refused(file, from)).toBe(true)
  })

  it.each([
    ['src/main/engine/train/new.ts', '../model'],
    ['src/main/engine/train/new.ts', '../../../shared/requests'],
    ['src/main/data/new.ts', '../engine/config'],
    ['src/main/runs/new.ts', '../engine/train/loop'],
    ['src/main/workflows/new.ts', '../runs/config'],
    ['src/main/jobs/new.ts', '../workflows/pretrain'],
    ['src/main/api/new.ts', '../jobs/runner'],
    ['src/cli/new.ts', '../main/workflows/pretrain'],
    ['src/renderer/src/new.ts', '../../shared/requests']
  ])('but lets %s import %s', async (file, from) => {
    expect(await refused(file, from)).toBe(false)
  })
})

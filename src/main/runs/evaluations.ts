/**
 * A run's evaluations as the workbench lists them: each retrieval report (<run>/retrieval-*.json) read
 * through the contract's schema, without its clip ids and top-k lists; a malformed file is named with its reason.
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type RetrievalSummary, RetrievalSummarySchema, describeIssues } from '../../shared/contract'

/** A stored retrieval report's summary, dated by the file's modification time. */
export async function readRetrievalReport(path: string): Promise<RetrievalSummary> {
  const raw = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  const created = (await stat(path)).mtime.toISOString()
  const parsed = RetrievalSummarySchema.safeParse({ ...raw, ids: undefined, top: undefined, created })
  if (!parsed.success) throw new Error(`${path}: not a retrieval report (${describeIssues(parsed.error)})`)
  return parsed.data
}

export type EvaluationSummary = Omit<RetrievalSummary, 'per_class'>

export function withoutPerClass(r: RetrievalSummary): EvaluationSummary {
  const { per_class: _perClass, ...rest } = r
  return rest
}

/** Every retrieval report of a run folder, oldest first. */
export async function listEvaluations(runDir: string): Promise<EvaluationSummary[]> {
  const files = (await readdir(runDir)).filter((f) => /^retrieval-.*\.json$/.test(f))
  const reports = await Promise.all(files.map(async (f) => withoutPerClass(await readRetrievalReport(join(runDir, f)))))
  return reports.sort((a, b) => a.created.localeCompare(b.created))
}

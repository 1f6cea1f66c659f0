/**
 * Validates every call against the contract (input before, output after) and dispatches it.
 * Both transports hand raw, untrusted {method, input} here.
 */
import { contract, describeIssues, type Method } from '../../shared/contract'
import type { Services } from './services'

export class ApiError extends Error {
  constructor(
    readonly status: 400 | 404 | 500,
    message: string
  ) {
    super(message)
  }
}

export function createRouter(services: Services) {
  return async (method: unknown, input: unknown): Promise<unknown> => {
    if (typeof method !== 'string' || !Object.hasOwn(contract, method)) throw new ApiError(404, `unknown method ${JSON.stringify(method)}`)
    const m = method as Method
    const parsed = contract[m].input.safeParse(input ?? {})
    if (!parsed.success) throw new ApiError(400, `${m}: ${describeIssues(parsed.error)}`)
    const handler = services[m] as (i: unknown) => Promise<unknown>
    // service errors (no such job, a run still running…) are the caller's to fix: 400 with the message
    let out: unknown
    try {
      out = await handler(parsed.data)
    } catch (err) {
      throw new ApiError(400, `${m}: ${err instanceof Error ? err.message : String(err)}`)
    }
    const result = contract[m].output.safeParse(out)
    if (!result.success) throw new ApiError(500, `${m} produced an invalid result: ${describeIssues(result.error)}`)
    return result.data
  }
}

export type Router = ReturnType<typeof createRouter>

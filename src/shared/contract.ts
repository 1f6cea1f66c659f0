/**
 * The workbench API: every method with a schema for its input and output, written once and served by
 * both transports (Electron IPC and the local HTTP server). Runtime-neutral: imported by main and renderer.
 * Each area keeps its schemas in src/shared/contract/<area>.ts and its names in src/shared/methods.ts;
 * this module merges them (one line per area).
 */
import type { z } from 'zod'
import type { EventName, Method } from './methods'
import type { MediaWhat } from './media'
import { datasetsContract } from './contract/datasets'
import { jobsContract } from './contract/jobs'
import { runsContract } from './contract/runs'
import { analysisContract } from './contract/analysis'
import { trainContract } from './contract/train'
import { clusterContract } from './contract/cluster'
import type { MethodSpec } from './contract/spec'
import { eventsContract } from './contract/events'

export { EVENTS, METHODS, type EventName, type Method } from './methods'
export { eventsContract } from './contract/events'
export * from './contract/runs'
export * from './contract/jobs'
export * from './contract/datasets'
export * from './contract/analysis'
export * from './contract/train'
export * from './contract/cluster'

export const contract = {
  ...runsContract,
  ...jobsContract,
  ...datasetsContract,
  ...analysisContract,
  ...trainContract,
  ...clusterContract
} as const satisfies Record<Method, MethodSpec>

export type Contract = typeof contract
export type Input<M extends Method> = z.input<Contract[M]['input']>
export type Output<M extends Method> = z.output<Contract[M]['output']>

export type EventPayload<E extends EventName> = z.output<(typeof eventsContract)[E]>

/** What every transport offers the renderer. */
export interface ApiClient {
  call<M extends Method>(method: M, input: Input<M>): Promise<Output<M>>
  /** listens to an event until the returned function is called */
  on<E extends EventName>(event: E, handler: (payload: EventPayload<E>) => void): () => void
  /** the address of a clip's media for <img>, <video>, <audio> (src/shared/media.ts) */
  mediaUrl(dataset: string, clipId: string, what: MediaWhat): string
}

/** A clear, field-naming message for a schema failure. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : 'input'}: ${i.message}`).join('; ')
}

import type { z } from 'zod'
import type { Contract, Method, Output } from '../../../shared/contract'
import type { DatasetCatalogs } from '../../data/datasets'
import type { JobRunner } from '../../jobs/runner'
import type { ClipPlayback } from '../playback'

/** One implementation per method, receiving the input as its schema parsed it. */
export type Services = { [M in Method]: (input: z.output<Contract[M]['input']>) => Promise<Output<M>> }

/** The implementations of one area's methods. */
export type AreaServices<Names extends readonly Method[]> = Pick<Services, Names[number]>

/** What every area's services work against. */
export interface ServiceContext {
  workspace: string
  version: string
  jobs: JobRunner
  /** the datasets' catalogs, opened once and shared by every request */
  catalogs: DatasetCatalogs
  /** clips' playback and their transcodes, shared with the media endpoint */
  playback: ClipPlayback
}

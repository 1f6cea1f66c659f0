/**
 * The API's method and event names, free of any dependency so the sandboxed preload can bundle it.
 * One list per area; each area's schemas live in src/shared/contract/<area>.ts and must cover its list.
 */
export const RUNS_METHODS = ['app.info', 'runs.list', 'runs.metrics'] as const
export const JOBS_METHODS = ['jobs.list', 'jobs.start', 'jobs.cancel', 'jobs.resume'] as const
export const DATASETS_METHODS = ['datasets.list', 'datasets.info', 'datasets.clip', 'datasets.clips', 'datasets.position', 'datasets.edit', 'datasets.editMany', 'datasets.import', 'datasets.prepare', 'datasets.augmentPreview', 'datasets.playback', 'datasets.pruneCache'] as const
export const ANALYSIS_METHODS = ['analysis.embed', 'retrieval.query', 'retrieval.summary', 'embeddings.map', 'embeddings.points', 'embeddings.progress', 'embeddings.ranks', 'runs.retrieval', 'runs.detail'] as const

export const TRAIN_METHODS = ['train.estimate', 'train.measure'] as const
export const CLUSTER_METHODS = ['cluster.export', 'cluster.attach'] as const

export const METHODS = [...RUNS_METHODS, ...JOBS_METHODS, ...DATASETS_METHODS, ...ANALYSIS_METHODS, ...TRAIN_METHODS, ...CLUSTER_METHODS] as const
export type Method = (typeof METHODS)[number]

/** Events the main process pushes to every connected page (payload only); `api.connected` is raised by the
 * client itself each time its event stream (re)connects, so a view can catch up on what it missed. */
export const EVENTS = ['job.state', 'job.progress', 'job.log', 'run.metrics', 'api.connected'] as const
export type EventName = (typeof EVENTS)[number]

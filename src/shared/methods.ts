/** The API's method names, free of any dependency so the sandboxed preload can bundle it. */
export const METHODS = ['app.info', 'runs.list', 'runs.metrics', 'jobs.list', 'jobs.start', 'jobs.cancel', 'jobs.resume'] as const
export type Method = (typeof METHODS)[number]

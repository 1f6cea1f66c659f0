/** Electron's equiav-media: protocol answered by the same media handler as `serve` (Fetch API types only). */
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { MediaHandler, MediaReply } from './media'

/** A byte range of a file; a held transcode is released when the stream closes (read to its end, or cancelled). */
function fileStream({ path, start, end, release }: Exclude<MediaReply['body'], Buffer>): ReadableStream<Uint8Array> {
  const stream = createReadStream(path, { start, end })
  if (release) stream.once('close', release)
  return Readable.toWeb(stream) as WebReadableStream<Uint8Array> as unknown as ReadableStream<Uint8Array>
}

export function mediaProtocolHandler(media: MediaHandler): (request: Request) => Promise<Response> {
  return async (request) => {
    let r: MediaReply
    try {
      r = await media(new URL(request.url).pathname, request.headers.get('range') ?? undefined)
    } catch (err) {
      return new Response(err instanceof Error ? err.message : String(err), { status: 500, headers: { 'Content-Type': 'text/plain; charset=utf-8' } })
    }
    const body = Buffer.isBuffer(r.body) ? new Uint8Array(r.body) : fileStream(r.body)
    return new Response(body, { status: r.status, headers: r.headers })
  }
}

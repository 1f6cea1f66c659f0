/**
 * `serve` transport: the API over HTTP on the loopback interface, plus the built renderer.
 * Every request needs the session token (Jupyter-style): `?token=` on the first page load, which sets an
 * HttpOnly SameSite cookie so the page's own asset and API requests carry it; or `Authorization: Bearer`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { parseBinaryPath } from '../../shared/contract/analysis'
import type { MediaHandler, MediaReply } from './media'
import { ApiError, type Router } from './router'

export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: equiav-media:; media-src 'self' blob: equiav-media:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.json': 'application/json'
}
const MAX_BODY = 1 << 20

export function newToken(): string {
  return randomBytes(24).toString('hex')
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

function tokenOf(req: IncomingMessage, url: URL): string | null {
  const q = url.searchParams.get('token')
  if (q) return q
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return auth.slice(7)
  const cookie = req.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith('equiav_token='))
  return cookie ? cookie.slice('equiav_token='.length) : null
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Whether a request (or a WebSocket handshake) carries the session token. */
export function hasToken(req: IncomingMessage, url: URL, token: string): boolean {
  const given = tokenOf(req, url)
  return given !== null && sameToken(given, token)
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY) throw new ApiError(400, 'request body larger than 1 MiB')
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new ApiError(400, 'request body is not valid JSON')
  }
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Security-Policy': CSP,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
    ...extra
  })
  res.end(body)
}

/** A method's result: bytes as they are, anything else as JSON. */
function sendResult(res: ServerResponse, out: unknown, extra: Record<string, string>): void {
  if (out instanceof Uint8Array) send(res, 200, Buffer.from(out.buffer, out.byteOffset, out.byteLength), 'application/octet-stream', extra)
  else send(res, 200, JSON.stringify(out), 'application/json', extra)
}

function sendError(res: ServerResponse, err: unknown): void {
  const status = err instanceof ApiError ? err.status : 500
  send(res, status, JSON.stringify({ error: err instanceof Error ? err.message : String(err) }), 'application/json')
}

export interface ServeOptions {
  router: Router
  token: string
  /** the built renderer (out/renderer); only files inside it are served */
  staticDir: string
  /** clip media at /media/…, read through the catalogs */
  media?: MediaHandler
}

function sendMedia(res: ServerResponse, r: MediaReply): void {
  const headers = { 'Content-Security-Policy': CSP, 'Cross-Origin-Resource-Policy': 'same-origin', 'X-Content-Type-Options': 'nosniff', ...r.headers }
  res.writeHead(r.status, headers)
  if (Buffer.isBuffer(r.body)) res.end(r.body)
  else createReadStream(r.body.path, { start: r.body.start, end: r.body.end }).on('error', () => res.destroy()).pipe(res)
}

export function createApiServer(o: ServeOptions): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (!hasToken(req, url, o.token)) {
      send(res, 401, JSON.stringify({ error: 'a valid token is required (open the URL that `equiav serve` printed)' }), 'application/json')
      return
    }
    const cookie: Record<string, string> = url.searchParams.has('token') ? { 'Set-Cookie': `equiav_token=${o.token}; HttpOnly; SameSite=Strict; Path=/` } : {}
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return send(res, 405, JSON.stringify({ error: 'use POST' }), 'application/json')
      readBody(req)
        .then((input) => o.router(decodeURIComponent(url.pathname.slice(5)), input))
        .then((out) => sendResult(res, out, cookie), (err: unknown) => sendError(res, err))
      return
    }
    if (url.pathname.startsWith('/api-bin/')) {
      // bytes (the embedding map's columns) by GET, so the browser can fetch them straight into an ArrayBuffer
      if (req.method !== 'GET') return send(res, 405, JSON.stringify({ error: 'use GET' }), 'application/json')
      const call = parseBinaryPath(url.pathname)
      if (!call) return send(res, 404, JSON.stringify({ error: `no binary resource at ${url.pathname}` }), 'application/json')
      o.router(call.method, call.input).then((out) => sendResult(res, out, cookie), (err: unknown) => sendError(res, err))
      return
    }
    if (url.pathname.startsWith('/media/') && o.media) {
      o.media(url.pathname, req.headers.range).then(
        (r) => sendMedia(res, r),
        (err: Error) => send(res, 500, err.message, 'text/plain; charset=utf-8')
      )
      return
    }
    const rel = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname)).replace(/^([/\\])+/, '')
    const file = join(o.staticDir, rel)
    if (!file.startsWith(o.staticDir + sep) || !existsSync(file)) {
      send(res, 404, 'not found', 'text/plain; charset=utf-8')
      return
    }
    readFile(file).then(
      (body) => send(res, 200, body, TYPES[extname(file)] ?? 'application/octet-stream', cookie),
      () => send(res, 404, 'not found', 'text/plain; charset=utf-8')
    )
  })
}

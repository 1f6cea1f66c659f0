/**
 * `serve` transport: the API over HTTP on the loopback interface, plus the built renderer.
 * Every request needs the session token (Jupyter-style): `?token=` on the first page load, which sets an
 * HttpOnly SameSite cookie (named per port) so the page's own asset and API requests carry it; or
 * `Authorization: Bearer`. Only the server's own page is admitted: the Host header must name the address
 * and port the server is bound to (no DNS rebinding), and an API call must be JSON and either carry the
 * token itself or come from the page's own origin (Origin / Sec-Fetch-Site), since a page on another
 * port of 127.0.0.1 is same-site and its requests carry the cookie too.
 * Any error a request causes becomes a reply (4xx naming the reason, 5xx otherwise): none stops the server.
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

/** The session cookie's name: one per port, so two servers (or a page on another port) never share it. */
export function cookieName(port: number): string {
  return `equiav_token_${port}`
}

/** How a request carried a token: in the URL or a header (explicit), or only in the cookie (sent by the browser to any port). */
type TokenSource = { token: string; via: 'explicit' | 'cookie' }

function tokenOf(req: IncomingMessage, url: URL): TokenSource | null {
  const q = url.searchParams.get('token')
  if (q) return { token: q, via: 'explicit' }
  const auth = req.headers.authorization
  if (auth?.startsWith('Bearer ')) return { token: auth.slice(7), via: 'explicit' }
  const prefix = `${cookieName(req.socket.localPort ?? 0)}=`
  const cookie = req.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith(prefix))
  return cookie ? { token: cookie.slice(prefix.length), via: 'cookie' } : null
}

/** The Host values that name this server: the address and port the connection came in on (and localhost on loopback). */
function ownHosts(req: IncomingMessage): string[] {
  const address = (req.socket.localAddress ?? '').replace(/^::ffff:/, '')
  const port = req.socket.localPort
  const hosts = [`${address.includes(':') ? `[${address}]` : address}:${port}`]
  if (isLoopback(address)) hosts.push(`localhost:${port}`)
  return hosts
}

/** Whether the Host header names this server (a page on another name resolving here, DNS rebinding, is refused). */
export function ownHost(req: IncomingMessage): boolean {
  const host = req.headers.host?.toLowerCase()
  return host !== undefined && ownHosts(req).includes(host)
}

/** Whether an Origin (when a browser sends one) is this server's own page. */
export function ownOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  return origin === undefined || origin === `http://${req.headers.host?.toLowerCase()}`
}

/**
 * Why a state-changing call is refused, or null: it must be JSON (a cross-site form cannot send that
 * without a preflight), and when only the cookie vouches for it, it must come from our own page.
 */
function csrfRefusal(req: IncomingMessage, via: TokenSource['via']): string | null {
  const type = req.headers['content-type']?.split(';')[0].trim().toLowerCase()
  if (type !== 'application/json') return `send API calls as application/json (got ${type ? JSON.stringify(type) : 'no Content-Type'})`
  if (!ownOrigin(req)) return `cross-origin call from ${req.headers.origin} refused`
  if (via === 'cookie' && req.headers.origin === undefined && req.headers['sec-fetch-site'] !== 'same-origin') {
    return 'a call carrying the token only in its cookie must come from the workbench page (Origin or Sec-Fetch-Site: same-origin); otherwise send it as Authorization: Bearer'
  }
  return null
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** Whether a request (or a WebSocket handshake) carries the session token. */
export function hasToken(req: IncomingMessage, url: URL, token: string): boolean {
  const given = tokenOf(req, url)
  return given !== null && sameToken(given.token, token)
}

/** The request's URL, or null when its target does not parse (`GET http://[ HTTP/1.1`). */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost')
  } catch {
    return null
  }
}

/** decodeURIComponent, or an ApiError 400 for a malformed escape. */
function decodePath(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    throw new ApiError(400, `malformed % escape in ${JSON.stringify(path.slice(0, 200))}`)
  }
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

/** An error as a JSON reply; when the reply has already begun, the connection is closed instead. */
function sendError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  const status = err instanceof ApiError ? err.status : 500
  send(res, status, JSON.stringify({ error: err instanceof Error ? err.message : String(err) }), 'application/json')
}

const refuse = (res: ServerResponse, status: number, error: string): void => send(res, status, JSON.stringify({ error }), 'application/json')

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
  if (Buffer.isBuffer(r.body)) {
    res.writeHead(r.status, headers)
    res.end(r.body)
    return
  }
  // a held transcode is released when the response ends, finished or cut off
  if (r.body.release) res.once('close', r.body.release)
  // opened before the head is written, so a file that cannot be read is still answered with a status
  const stream = createReadStream(r.body.path, { start: r.body.start, end: r.body.end })
  stream.once('open', () => {
    res.writeHead(r.status, headers)
    stream.pipe(res)
  })
  stream.once('error', (err) => sendError(res, new Error(`cannot read the clip's file: ${err.message}`)))
}

/** One request, start to end; anything it throws is answered by the caller. */
async function handle(o: ServeOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = requestUrl(req)
  if (!url) return refuse(res, 400, 'malformed request target')
  if (!ownHost(req)) return refuse(res, 421, `Host ${JSON.stringify(req.headers.host ?? '')} is not this server (${ownHosts(req).join(' or ')})`)
  const given = tokenOf(req, url)
  if (!given || !sameToken(given.token, o.token)) return refuse(res, 401, 'a valid token is required (open the URL that `equiav serve` printed)')
  const cookie: Record<string, string> = url.searchParams.has('token')
    ? { 'Set-Cookie': `${cookieName(req.socket.localPort ?? 0)}=${o.token}; HttpOnly; SameSite=Strict; Path=/` }
    : {}
  if (url.pathname.startsWith('/api/')) {
    if (req.method !== 'POST') return refuse(res, 405, 'use POST')
    const refusal = csrfRefusal(req, given.via)
    if (refusal) return refuse(res, 403, refusal)
    const method = decodePath(url.pathname.slice(5))
    return sendResult(res, await o.router(method, await readBody(req)), cookie)
  }
  if (url.pathname.startsWith('/api-bin/')) {
    // bytes (the embedding map's columns) by GET, so the browser can fetch them straight into an ArrayBuffer
    if (req.method !== 'GET') return refuse(res, 405, 'use GET')
    decodePath(url.pathname)
    const call = parseBinaryPath(url.pathname, url.search)
    if (!call) return refuse(res, 404, `no binary resource at ${url.pathname}`)
    return sendResult(res, await o.router(call.method, call.input), cookie)
  }
  if (url.pathname.startsWith('/media/') && o.media) return sendMedia(res, await o.media(url.pathname, req.headers.range))
  const rel = normalize(decodePath(url.pathname === '/' ? '/index.html' : url.pathname)).replace(/^([/\\])+/, '')
  const file = join(o.staticDir, rel)
  if (!file.startsWith(o.staticDir + sep) || !existsSync(file)) return send(res, 404, 'not found', 'text/plain; charset=utf-8')
  const body = await readFile(file).catch(() => null)
  if (!body) return send(res, 404, 'not found', 'text/plain; charset=utf-8')
  send(res, 200, body, TYPES[extname(file)] ?? 'application/octet-stream', cookie)
}

export function createApiServer(o: ServeOptions): Server {
  return createServer((req, res) => {
    handle(o, req, res).catch((err: unknown) => {
      try {
        sendError(res, err)
      } catch {
        res.destroy()
      }
    })
  })
}

/**
 * `serve` events: a WebSocket at /events on the same server, behind the same token as every request
 * (cookie, `?token=` or Bearer), with the same Host check, and only from our own page's origin when a
 * browser names one. Each message is one JSON {event, payload}. A handshake that fails in any way is
 * answered and closed; it never reaches the server's event loop as an exception.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { EventHub } from './events'
import { hasToken, ownHost, ownOrigin, requestUrl } from './http'

export const EVENTS_PATH = '/events'

function refuse(socket: Duplex, status: 400 | 401 | 403 | 404 | 421 | 500, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`)
}

export function attachEventSocket(server: Server, hub: EventHub, token: string): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 })
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = requestUrl(req)
    if (!url) return refuse(socket, 400, 'malformed request target')
    if (url.pathname !== EVENTS_PATH) return refuse(socket, 404, 'not found')
    if (!ownHost(req)) return refuse(socket, 421, 'Host is not this server')
    if (!hasToken(req, url, token)) return refuse(socket, 401, 'a valid token is required')
    // a browser sends Origin on a WebSocket handshake: it must be the page this server serves
    if (!ownOrigin(req)) return refuse(socket, 403, 'cross-origin event stream refused')
    wss.handleUpgrade(req, socket, head, (ws) => {
      const unsubscribe = hub.subscribe((event, payload) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ event, payload }))
      })
      ws.on('close', unsubscribe)
      ws.on('error', unsubscribe)
      // the page only listens; anything it sends is ignored
    })
  }
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    try {
      upgrade(req, socket, head)
    } catch {
      refuse(socket, 500, 'event stream failed')
    }
  })
  return wss
}

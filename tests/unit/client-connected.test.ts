import { describe, expect, it } from 'vitest'
import { type SocketLike, httpClient } from '../../src/shared/client'

/** a socket the test opens and closes by hand */
function fakeSocket(): SocketLike & { fire(kind: 'open' | 'close'): void } {
  const s = {
    onopen: null as ((ev: never) => unknown) | null,
    onmessage: null as ((ev: never) => unknown) | null,
    onclose: null as ((ev: never) => unknown) | null,
    close() {},
    fire(kind: 'open' | 'close') {
      ;(kind === 'open' ? s.onopen : s.onclose)?.({} as never)
    }
  }
  return s
}

describe('httpClient api.connected', () => {
  it('tells a listener added after the stream opened, and not one added while it is closed', async () => {
    const sock = fakeSocket()
    const client = httpClient({ base: '', eventsUrl: 'ws://x/events', fetch: fetch, socket: () => sock, retryMs: 60_000 })
    const early: number[] = []
    client.on('api.connected', () => early.push(1))
    sock.fire('open')
    expect(early).toEqual([1])
    const late: number[] = []
    client.on('api.connected', () => late.push(1))
    await Promise.resolve()
    expect(late).toEqual([1]) // a view visited later still loads once
    sock.fire('close')
    const closed: number[] = []
    client.on('api.connected', () => closed.push(1))
    await Promise.resolve()
    expect(closed).toEqual([])
    client.close()
  })
})

import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BearerAuth,
  Client,
  NetworkError,
  RateLimitError,
  ResponseTooLargeError,
  ResponseValidationError,
  TimeoutError,
  UsageError,
  XRPCClient,
  XRPCError,
} from '../src/index.js'
import { type FaultServer, type Handler, json, raw, startFaultServer } from './support/fault-server.js'

/**
 * The transport against servers that misbehave on purpose: waits asked for in every format, bodies
 * that trickle, stall or never end, redirects that would carry credentials away, names and values
 * that are traps. Each server is a real HTTP server on loopback.
 */

const description = { did: 'did:web:localhost', availableUserDomains: ['.test'] }
const fastRetry = { limit: 2, backoffLimitMs: 20 }

let server: FaultServer
let elsewhere: FaultServer
let client: Client
beforeAll(async () => {
  server = await startFaultServer()
  elsewhere = await startFaultServer()
  client = new Client({ service: server.url, retry: fastRetry, timeoutMs: 2_000 })
})
afterAll(async () => {
  await server.close()
  await elsewhere.close()
})

const failure = (promise: PromiseLike<unknown>) =>
  Promise.resolve(promise).then(
    () => expect.unreachable('the call succeeded'),
    (error: unknown) => error,
  )

/** Sends headers at once, then the body a byte at a time every `everyMs` (forever, until the client hangs up). */
function trickle(everyMs: number): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.write('{"did": "did:web:localhost", "availableUserDomains": [')
    const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write(' ')), everyMs)
    res.once('close', () => clearInterval(timer))
  }
}

/** Headers, then nothing at all. */
const stall: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.write('{')
}

/** A JSON body of `bytes` bytes, streamed for as long as the client reads; `written()` says how much went out. */
function huge(bytes: number, headers: Record<string, string> = {}): Handler & { written(): number } {
  let written = 0
  const handler: Handler = async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', ...headers })
    const chunk = Buffer.alloc(64 * 1024, ' ')
    res.write('{"did": "did:web:localhost", "availableUserDomains": [], "x": "')
    while (!res.destroyed && written < bytes) {
      written += chunk.length
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve))
    }
    res.end('"}')
  }
  return Object.assign(handler, { written: () => written })
}

function redirect(status: number, location: string): Handler {
  return (_req, res) => {
    res.writeHead(status, { location })
    res.end()
  }
}

describe('retry waits obey maxRetryAfterMs, whatever said them', () => {
  const inAnHour = String(Math.floor(Date.now() / 1000) + 3600)
  const farWaits: [string, number, Record<string, string>][] = [
    ['retry-after in seconds on 503', 503, { 'retry-after': '3600' }],
    ['retry-after in seconds on 429', 429, { 'retry-after': '3600' }],
    ['ratelimit-reset as a Unix time on 503', 503, { 'ratelimit-reset': inAnHour }],
    ['ratelimit-reset as a Unix time on 429', 429, { 'ratelimit-reset': inAnHour }],
    ['ratelimit-reset as seconds from now, between the two readings', 429, { 'ratelimit-reset': '500000000' }],
    ['an HTTP date in 2099', 503, { 'retry-after': 'Thu, 01 Jan 2099 00:00:00 GMT' }],
    ['a huge number of seconds', 503, { 'retry-after': '1000000000000' }],
  ]
  for (const [what, status, headers] of farWaits) {
    it(`reports ${what} at once, without sleeping or retrying`, async () => {
      server.script(json(status, { error: status === 429 ? 'RateLimitExceeded' : 'NotEnoughResources' }, headers))
      const error = await failure(client.com.atproto.server.describeServer())
      expect(error).toBeInstanceOf(status === 429 ? RateLimitError : XRPCError)
      expect((error as XRPCError).status).toBe(status)
      expect(server.requests).toHaveLength(1)
      expect(() => JSON.stringify(error)).not.toThrow()
    })
  }

  it('holds a short wait to the client’s own limit too', async () => {
    const strict = new Client({ service: server.url, retry: { ...fastRetry, maxRetryAfterMs: 500 } })
    server.script(json(503, {}, { 'retry-after': '1' }), json(200, description))
    await expect(strict.com.atproto.server.describeServer()).rejects.toMatchObject({ status: 503 })
    expect(server.requests).toHaveLength(1)
  })

  for (const value of ['abc', '-5', '1.5e3', 'Infinity', '']) {
    it(`ignores an unreadable wait (${JSON.stringify(value)}) and retries after its own backoff`, async () => {
      server.script(
        json(429, { error: 'RateLimitExceeded' }, { 'retry-after': value, 'ratelimit-reset': value }),
        json(200, description),
      )
      await expect(client.com.atproto.server.describeServer()).resolves.toMatchObject({ did: 'did:web:localhost' })
      expect(server.requests).toHaveLength(2)
    })
  }

  it('gives a RateLimitError that serializes whatever its headers held', async () => {
    const noRetry = new Client({ service: server.url, retry: false })
    server.script(
      json(
        429,
        { error: 'RateLimitExceeded' },
        { 'ratelimit-reset': 'abc', 'ratelimit-limit': 'x', 'retry-after': 'soon' },
      ),
    )
    const error = (await failure(noRetry.com.atproto.server.describeServer())) as RateLimitError
    expect(error).toBeInstanceOf(RateLimitError)
    expect(error.reset).toBeUndefined()
    expect(error.rateLimit.limit).toBeUndefined()
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'RateLimitError', status: 429 })
  })

  it('does not start a wait the deadline would cut short', async () => {
    server.script(json(503, {}, { 'retry-after': '2' }), json(200, description))
    const error = await failure(client.com.atproto.server.describeServer(undefined, { deadlineMs: 1_000 }))
    expect(error).toMatchObject({ status: 503 })
    expect(server.requests).toHaveLength(1)
  })
})

describe('a deadline for the whole call, bodies included', () => {
  it('times out a body that trickles, per attempt', async () => {
    server.script(trickle(50))
    const error = await failure(client.com.atproto.server.describeServer(undefined, { timeoutMs: 300 }))
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ timeoutMs: 300, scope: 'attempt' })
    expect(server.requests).toHaveLength(1) // a timeout is not retried: the server had its chance
  })

  it('times out a body that stalls after the headers', async () => {
    server.script(stall)
    const error = await failure(client.com.atproto.server.describeServer(undefined, { timeoutMs: 200 }))
    expect(error).toMatchObject({ name: 'TimeoutError', scope: 'attempt' })
  })

  it('ends a call whose retries run into its deadline', async () => {
    // Two quick 503s are retried; the third attempt stalls past the deadline but within its own timeout,
    // so only the deadline can end it (whatever the machine's load, unlike a race of slow 503s against it).
    server.script(json(503, {}), json(503, {}), stall)
    const patient = new Client({ service: server.url, retry: { limit: 10, backoffLimitMs: 20 }, timeoutMs: 30_000 })
    const error = await failure(patient.com.atproto.server.describeServer(undefined, { deadlineMs: 1_000 }))
    expect(error).toBeInstanceOf(TimeoutError)
    expect(error).toMatchObject({ scope: 'deadline', timeoutMs: 1_000 })
    expect(server.requests).toHaveLength(3)
  })

  it('still gives the caller its own abort', async () => {
    server.script(trickle(50))
    const controller = new AbortController()
    const pending = client.com.atproto.server.describeServer().$signal(controller.signal).send()
    setTimeout(() => controller.abort(), 100)
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })
})

describe('bodies bounded in size', () => {
  it('cuts off a JSON body past maxResponseBytes, unread', async () => {
    const body = huge(200 * 1024 * 1024)
    server.script(body)
    const bounded = new Client({ service: server.url, retry: fastRetry, maxResponseBytes: 1024 * 1024 })
    const error = await failure(bounded.com.atproto.server.describeServer())
    expect(error).toBeInstanceOf(ResponseTooLargeError)
    expect(error).toMatchObject({ limit: 1024 * 1024, status: 200 })
    expect(server.requests).toHaveLength(1)
    // The server stopped writing soon after the client stopped reading (socket buffers aside).
    expect(body.written()).toBeLessThan(32 * 1024 * 1024)
  })

  it('refuses a declared content-length past the limit before reading', async () => {
    server.script((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) })
      res.write('{')
    })
    const error = await failure(client.com.atproto.server.describeServer(undefined, { maxResponseBytes: 1000 }))
    expect(error).toBeInstanceOf(ResponseTooLargeError)
  })

  it('reads a body up to the limit', async () => {
    const body = JSON.stringify(description)
    server.script(json(200, description))
    await expect(
      client.com.atproto.server.describeServer(undefined, { maxResponseBytes: body.length }),
    ).resolves.toMatchObject({ did: 'did:web:localhost' })
  })

  it('bounds binary outputs too', async () => {
    server.script(raw(200, 'x'.repeat(5000), 'application/octet-stream'))
    const error = await failure(
      client.com.atproto.sync.getBlob(
        { did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz', cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' },
        { maxResponseBytes: 4096 },
      ),
    )
    expect(error).toBeInstanceOf(ResponseTooLargeError)
  })
})

describe('redirects never carry credentials or bodies away', () => {
  it('does not re-send a login (a POST with the password) to where a 307 or 308 points', async () => {
    for (const status of [307, 308, 302]) {
      server.script(redirect(status, `${elsewhere.url}/xrpc/com.atproto.server.createSession`))
      elsewhere.script(json(200, {}))
      const error = await failure(
        client.com.atproto.server.createSession({ identifier: 'alice.test', password: 'hunter2-secret' }),
      )
      expect(error).toBeInstanceOf(NetworkError)
      expect((error as Error).message).toContain('not followed')
      expect(String(error) + inspect(error)).not.toContain('hunter2')
      expect(elsewhere.requests).toHaveLength(0)
    }
  })

  it('follows a GET to another origin bare: no authorization, proxy, API key or app header', async () => {
    const bearer = new XRPCClient({
      service: server.url,
      auth: new BearerAuth('secret-token'),
      headers: { 'x-api-key': 'secret-key' },
      proxy: 'did:web:api.bsky.app#bsky_appview',
    })
    const { describeServer } = await import('../generated/com/atproto/server/describeServer.js')
    server.script(redirect(302, `${elsewhere.url}/xrpc/com.atproto.server.describeServer`))
    elsewhere.script(json(200, description))
    await expect(bearer.call(describeServer)).resolves.toMatchObject({ did: 'did:web:localhost' })
    expect(server.requests[0].headers.authorization).toBe('Bearer secret-token')
    expect(elsewhere.requests).toHaveLength(1)
    const { headers } = elsewhere.requests[0]
    expect(headers.authorization).toBeUndefined()
    expect(headers['x-api-key']).toBeUndefined()
    expect(headers['atproto-proxy']).toBeUndefined()
  })

  it('keeps the headers of a GET redirected within its origin, and stops after five hops', async () => {
    const bearer = new XRPCClient({ service: server.url, auth: new BearerAuth('secret-token') })
    const { describeServer } = await import('../generated/com/atproto/server/describeServer.js')
    server.script(redirect(301, '/xrpc/com.atproto.server.describeServer?moved=1'), json(200, description))
    await expect(bearer.call(describeServer)).resolves.toBeDefined()
    expect(server.requests[1].headers.authorization).toBe('Bearer secret-token')
    expect(server.requests[1].url.searchParams.get('moved')).toBe('1')

    server.script(redirect(302, '/again'))
    await expect(bearer.call(describeServer, undefined, { validate: false })).rejects.toBeInstanceOf(NetworkError)
    expect(server.requests.length).toBeLessThanOrEqual(6)
  })
})

describe('names and values that are traps', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    it(`maps an error named ${name} to an XRPCError`, async () => {
      server.script(json(400, { error: name, message: 'no' }))
      const error = await failure(
        client.com.atproto.repo.getRecord({ repo: 'alice.test', collection: 'app.bsky.feed.post', rkey: 'x' }),
      )
      expect(error).toBeInstanceOf(XRPCError)
      expect(error).toMatchObject({ error: name, status: 400 })
    })
  }

  it('refuses JSON served as text/html', async () => {
    server.script(raw(200, JSON.stringify(description), 'text/html'))
    const error = await failure(client.com.atproto.server.describeServer())
    expect(error).toBeInstanceOf(ResponseValidationError)
    expect((error as Error).message).toContain('content type')
    server.script(raw(200, JSON.stringify(description), 'Application/JSON; charset=utf-8'))
    await expect(client.com.atproto.server.describeServer()).resolves.toBeDefined()
  })

  it('refuses a header fetch cannot send, naming it without its value, before sending', async () => {
    server.script(json(200, description))
    const error = await failure(
      client.com.atproto.server.describeServer(undefined, { headers: { 'x-api-key': 'secret-value\r\nx-evil: 1' } }),
    )
    expect(error).toBeInstanceOf(UsageError)
    expect((error as Error).message).toContain('x-api-key')
    const shown = `${(error as Error).message} ${(error as Error).stack} ${inspect(error)} ${JSON.stringify(error)}`
    expect(shown).not.toContain('secret-value')
    expect(server.requests).toHaveLength(0)
  })

  it('never repeats a token no header can hold (a server may hand one out)', async () => {
    const bearer = new XRPCClient({ service: server.url, auth: new BearerAuth('secret-token\r\nx: y') })
    const { describeServer } = await import('../generated/com/atproto/server/describeServer.js')
    server.script(json(200, description))
    const error = await failure(bearer.call(describeServer))
    expect(error).toBeInstanceOf(NetworkError)
    const shown = `${(error as Error).message} ${(error as Error).stack} ${inspect(error, { depth: 5 })}`
    expect(shown).not.toContain('secret-token')
    expect((error as Error).cause).toBeUndefined()
    expect(server.requests).toHaveLength(0)
  })

  it('merges headers case-insensitively, the call’s winning', async () => {
    const headed = new Client({ service: server.url, headers: { Authorization: 'Bearer client', 'X-Trace': 'a' } })
    server.script(json(200, description))
    await headed.com.atproto.server.describeServer(undefined, { headers: { authorization: 'Bearer call' } })
    expect(server.requests[0].headers.authorization).toBe('Bearer call')
    expect(server.requests[0].headers['x-trace']).toBe('a')
  })

  it('refuses a service that is not an absolute http(s) URL, at once', () => {
    for (const service of ['bsky.social', 'ftp://bsky.social', 'https://user:pass@bsky.social']) {
      expect(() => new Client({ service })).toThrow(UsageError)
    }
    expect(() => new Client({ service: 'https://user:pass@bsky.social' })).not.toThrow(/pass/)
  })
})

describe('bounded concurrency per origin', () => {
  it('keeps at most maxConcurrentRequests in flight to one server, and answers them all', async () => {
    const capped = new Client({ service: server.url, maxConcurrentRequests: 4 })
    server.script((req, res, index) => void setTimeout(() => json(200, description)(req, res, index), 5))
    const calls = Array.from({ length: 200 }, () => capped.com.atproto.server.describeServer())
    const answers = await Promise.all(calls)
    expect(answers).toHaveLength(200)
    expect(server.requests).toHaveLength(200)
    expect(server.maxInFlight()).toBeLessThanOrEqual(4)
    // Sockets: the cap, plus a few a pool opens while a finished one is handed back (200 without a cap).
    expect(server.connections()).toBeLessThan(16)
  })

  it('lets a queued call be aborted while it waits its turn', async () => {
    const capped = new Client({ service: server.url, maxConcurrentRequests: 1 })
    server.script((req, res, index) => void setTimeout(() => json(200, description)(req, res, index), 200))
    const first = capped.com.atproto.server.describeServer()
    const controller = new AbortController()
    const queued = capped.com.atproto.server.describeServer().$signal(controller.signal).send()
    controller.abort()
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' })
    await expect(first).resolves.toBeDefined()
    expect(server.requests).toHaveLength(1)
  })
})

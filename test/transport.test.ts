import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { inspect } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getRecord, RecordNotFoundError } from '../generated/com/atproto/repo/getRecord.js'
import { describeServer } from '../generated/com/atproto/server/describeServer.js'
import {
  Client,
  InvalidRequestError,
  NetworkError,
  RateLimitError,
  ResponseValidationError,
  TimeoutError,
  UsageError,
  ValidationError,
  XRPCClient,
  XRPCError,
} from '../src/index.js'
import { repoRoot } from './support/codegen.js'
import {
  delayed,
  drop,
  endlessError,
  type FaultServer,
  json,
  raw,
  startFaultServer,
  truncated,
} from './support/fault-server.js'

const did = 'did:plc:ewvi7nxzyoun6zhxrhs64oiz'
const description = { did: 'did:web:localhost', availableUserDomains: ['.test'] }
const fastRetry = { limit: 2, backoffLimitMs: 20 }

let server: FaultServer
let client: Client
beforeAll(async () => {
  server = await startFaultServer()
  client = new Client({ service: server.url, retry: fastRetry, timeoutMs: 2_000 })
})
afterAll(() => server.close())

describe('transport against a loopback server', () => {
  it('retries a query on 503 and then succeeds', async () => {
    server.script(json(503, { error: 'NotEnoughResources' }), json(200, description))
    const response = await client.com.atproto.server.describeServer()
    expect(response.did).toBe('did:web:localhost')
    expect(server.requests).toHaveLength(2)
  })

  it('retries 502/504 and network drops up to the limit, then gives a NetworkError', async () => {
    server.script(json(502, {}), json(504, {}), drop)
    const error = await client.com.atproto.server.describeServer().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect(server.requests).toHaveLength(3)
  })

  it('honours retry-after on 429 for queries', async () => {
    server.script(json(429, { error: 'RateLimitExceeded' }, { 'retry-after': '0' }), json(200, description))
    await expect(client.com.atproto.server.describeServer()).resolves.toBeDefined()
    expect(server.requests).toHaveLength(2)
  })

  it('gives a RateLimitError with the reset time, without waiting for a reset minutes away', async () => {
    const reset = Math.floor(Date.now() / 1000) + 300
    const headers = {
      'ratelimit-limit': '30',
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(reset),
      'ratelimit-policy': '30;w=300',
    }
    server.script(json(429, { error: 'RateLimitExceeded', message: 'Rate Limit Exceeded' }, headers))
    const error = await client.com.atproto.server.describeServer().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitError)
    expect((error as RateLimitError).reset).toEqual(new Date(reset * 1000))
    expect((error as RateLimitError).rateLimit).toMatchObject({ limit: 30, remaining: 0, policy: '30;w=300' })
    expect(server.requests).toHaveLength(1)
  })

  it('does not retry procedures unless they are idempotent, and never a stream body', async () => {
    server.script(json(503, {}), json(200, {}))
    await expect(client.com.atproto.server.deleteSession()).rejects.toBeInstanceOf(XRPCError)
    expect(server.requests).toHaveLength(1)

    server.script(json(503, {}), json(200, {}))
    await expect(client.com.atproto.server.deleteSession(undefined, { idempotent: true })).resolves.toBeDefined()
    expect(server.requests).toHaveLength(2)

    server.script(json(503, {}), json(200, { blob: {} }))
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('bytes'))
        controller.close()
      },
    })
    const upload = client.com.atproto.repo.uploadBlob(stream, { encoding: 'text/plain', idempotent: true })
    await expect(upload).rejects.toBeInstanceOf(XRPCError)
    expect(server.requests).toHaveLength(1)
    expect(server.requests[0].body.toString()).toBe('bytes')
  })

  it('times out', async () => {
    server.script(delayed(1_000, json(200, description)))
    const error = await client.com.atproto.server.describeServer(undefined, { timeoutMs: 100 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).timeoutMs).toBe(100)
  })

  it('stops when the caller aborts', async () => {
    server.script(delayed(1_000, json(200, description)))
    const controller = new AbortController()
    const pending = client.com.atproto.server.describeServer().$signal(controller.signal).send()
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('gives a NetworkError once the server is gone, after the retries', async () => {
    const gone = await startFaultServer()
    await gone.close()
    const offline = new Client({ service: gone.url, retry: fastRetry })
    const error = await offline.com.atproto.server.describeServer().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkError)
    expect((error as Error).message).toContain('com.atproto.server.describeServer')
  })

  it('turns a non-JSON body into a ResponseValidationError with status and content type', async () => {
    server.script(raw(200, '<html>maintenance</html>'))
    const html = await client.com.atproto.server.describeServer().catch((e: unknown) => e)
    expect(html).toBeInstanceOf(ResponseValidationError)
    expect(html).toMatchObject({ status: 200, contentType: 'text/html' })

    server.script(raw(200, '{"did": "did:web:localhost", "availableUserDom', 'application/json'))
    const bad = await client.com.atproto.server.describeServer().catch((e: unknown) => e)
    expect(bad).toBeInstanceOf(ResponseValidationError)
    expect(bad).toMatchObject({ status: 200, contentType: 'application/json' })
  })

  it('retries a body cut off mid-way (the connection broke) as a network failure', async () => {
    server.script(truncated, json(200, description))
    await expect(client.com.atproto.server.describeServer()).resolves.toMatchObject({ did: 'did:web:localhost' })
    expect(server.requests).toHaveLength(2)

    server.script(truncated)
    await expect(client.com.atproto.server.describeServer()).rejects.toBeInstanceOf(NetworkError)
    expect(server.requests).toHaveLength(3)
  })

  it('validates responses unless told not to', async () => {
    server.script(json(200, { did: 'not a did' }))
    const error = await client.com.atproto.server.describeServer().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponseValidationError)
    expect((error as ResponseValidationError).issues).toEqual([
      { path: 'availableUserDomains', message: 'is required' },
      { path: 'did', message: 'must be a valid DID' },
    ])
    const lax = new Client({ service: server.url, validate: { response: false } })
    await expect(lax.com.atproto.server.describeServer()).resolves.toMatchObject({ $data: { did: 'not a did' } })
    await expect(client.com.atproto.server.describeServer(undefined, { validate: false })).resolves.toBeDefined()
  })

  it('refuses a bad call before sending anything', async () => {
    server.script(json(200, {}))
    const error = await client.app.bsky.actor.getProfile({ actor: 'not a handle!' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).message).toBe(
      'Invalid params for app.bsky.actor.getProfile: actor: must be a valid handle or DID',
    )
    await expect(client.app.bsky.actor.getProfile().send()).rejects.toThrow('actor: is required')
    await expect(
      client.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: 'text' as never }),
    ).rejects.toThrow('Invalid input for com.atproto.repo.createRecord: record: must be an object')
    expect(server.requests).toHaveLength(0)
  })

  it('encodes query arrays as repeated keys and sets the fluent params', async () => {
    server.script(json(200, { profiles: [] }))
    await client.app.bsky.actor.getProfiles().actors(['alice.test', 'bob.test']).send()
    expect(server.requests[0].url.search).toBe('?actors=alice.test&actors=bob.test')
    server.script(json(200, { uri: `at://${did}/app.bsky.feed.post/3kznmn7xqxl22`, value: {} }))
    await client.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: '3kznmn7xqxl22' })
    expect(Object.fromEntries(server.requests[0].url.searchParams)).toEqual({
      repo: did,
      collection: 'app.bsky.feed.post',
      rkey: '3kznmn7xqxl22',
    })
  })

  it('maps declared and standard error names to their classes', async () => {
    server.script(json(400, { error: 'RecordNotFound', message: 'Could not locate record' }))
    const notFound = await client.com.atproto.repo
      .getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: 'x' })
      .catch((e: unknown) => e)
    expect(notFound).toBeInstanceOf(RecordNotFoundError)
    expect(notFound).toBeInstanceOf(XRPCError)
    expect(notFound).toMatchObject({ status: 400, error: 'RecordNotFound', message: 'Could not locate record' })

    server.script(json(400, { error: 'InvalidRequest', message: 'bad' }))
    const invalid = await client.com.atproto.server.describeServer().catch((e: unknown) => e)
    expect(invalid).toBeInstanceOf(InvalidRequestError)

    server.script(raw(500, 'oops'))
    const unknown = await new Client({ service: server.url, retry: false }).com.atproto.server
      .describeServer()
      .catch((e: unknown) => e)
    expect(unknown).toMatchObject({ name: 'XRPCError', status: 500, error: 'HTTP500' })
  })

  it('reads an error body only so far: an endless one is cut off, and the status stands for it', async () => {
    const endless = endlessError(400)
    server.script(endless)
    const error = await new Client({ service: server.url, retry: false }).com.atproto.server
      .describeServer()
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(XRPCError)
    expect(error).toMatchObject({ status: 400, error: 'HTTP400' })
    // The client stopped reading after its limit; the server, told so, stopped writing long before its own.
    await waitFor(() => endless.written() > 0)
    expect(endless.written()).toBeLessThan(8 * 1024 * 1024)
  })

  it('routes chat.bsky through the chat proxy, and takes per-client and per-call proxies and labelers', async () => {
    server.script(json(200, { convos: [] }))
    await client.chat.bsky.convo.listConvos()
    expect(server.requests[0].headers['atproto-proxy']).toBe('did:web:api.bsky.chat#bsky_chat')

    const routed = new Client({
      service: server.url,
      proxy: 'did:web:api.bsky.app#bsky_appview',
      labelers: ['did:plc:labeler;redact'],
    })
    server.script(json(200, description))
    await routed.com.atproto.server.describeServer()
    await routed.com.atproto.server.describeServer(undefined, { proxy: null, labelers: [] })
    expect(server.requests[0].headers).toMatchObject({
      'atproto-proxy': 'did:web:api.bsky.app#bsky_appview',
      'atproto-accept-labelers': 'did:plc:labeler;redact',
    })
    expect(server.requests[1].headers['atproto-proxy']).toBeUndefined()
    expect(server.requests[1].headers['atproto-accept-labelers']).toBeUndefined()
  })

  it('uses a custom fetch, and calls by descriptor without the namespace tree', async () => {
    let fetched = 0
    const lean = new XRPCClient({
      service: server.url,
      fetch: (input: RequestInfo | URL, init?: RequestInit) => {
        fetched++
        return fetch(input, init)
      },
    })
    server.script(json(200, description))
    const response = await lean.call(describeServer)
    expect(response.availableUserDomains).toEqual(['.test'])
    expect(response.toJSON()).toEqual(description)
    expect(fetched).toBe(1)
    server.script(json(400, { error: 'RecordNotFound' }))
    await expect(
      lean.call(getRecord, { repo: did, collection: 'app.bsky.feed.post', rkey: 'x' }),
    ).rejects.toBeInstanceOf(RecordNotFoundError)
  })

  it('refuses an unknown NSID at once', () => {
    expect(() => client.call('com.example.nothing')).toThrow('Unknown XRPC method "com.example.nothing"')
    expect(() => (client as any).com.example.nothing()).toThrow(UsageError)
  })

  it('never shows a password in an error, a serialized request or an inspected builder', async () => {
    const password = 'correct-horse-battery-staple'
    const builder = client.com.atproto.server.createSession({ identifier: 42 as never, password })
    expect(JSON.stringify(builder)).not.toContain(password)
    expect(inspect(builder)).not.toContain(password)
    expect(inspect(builder, { showProxy: true, depth: 5 })).not.toContain(password)
    expect(String(builder)).toBe('RequestBuilder(com.atproto.server.createSession)')
    expect(`${builder}`).not.toContain(password)
    const error = await builder.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect(JSON.stringify(error)).not.toContain(password)
    expect(String(error)).not.toContain(password)
  })

  it('sends a call that is neither awaited nor sent, once, after the setters of the same tick', async () => {
    server.script(json(200, { profiles: [] }))
    client.app.bsky.actor.getProfiles().actors(['alice.test'])
    await waitFor(() => server.requests.length > 0)
    await new Promise((resolve) => setTimeout(resolve, 50)) // room for a second request, if one were coming
    expect(server.requests).toHaveLength(1)
    expect(server.requests[0].url.search).toBe('?actors=alice.test')

    // Awaited later, it gives the answer of that one request.
    server.script(json(200, description))
    const call = client.com.atproto.server.describeServer()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect((await call).did).toBe('did:web:localhost')
    expect(server.requests).toHaveLength(1)

    // Sent explicitly in the same tick, it is not sent a second time.
    server.script(json(200, description))
    const explicit = client.com.atproto.server.describeServer()
    await explicit.send()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(server.requests).toHaveLength(1)
  })

  it('surfaces the failure of a call nobody awaits as an unhandled rejection', async () => {
    // In a process of its own: an unhandled rejection ends it (Node's default), which is the point.
    server.script(json(400, { error: 'InvalidRequest', message: 'refused' }))
    const script = [
      `import { Client } from ${JSON.stringify(path.join(repoRoot, 'src/index.ts'))}`,
      `new Client({ service: ${JSON.stringify(server.url)}, retry: false }).com.atproto.server.deleteSession()`,
    ].join('\n')
    const result = await run(path.join(repoRoot, 'node_modules/.bin/tsx'), ['--eval', script], { cwd: repoRoot }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    )
    expect(result.code).not.toBe(0)
    expect(result.stderr).toContain('InvalidRequestError')
    expect(server.requests).toHaveLength(1)
  })
})

const run = promisify(execFile)

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/**
 * One firehose consumer reading the whole replay once, in its own process (./firehose.ts starts it
 * fresh each time, pinned to a core where it can). Each counts messages, commit ops and the records
 * they carry, timing from the first message handed to its code to the last. Prints JSON: a `Result`.
 *
 * Run by plain `node`, compiled by esbuild next to the built package (no loader hooks: as an app
 * runs the published package, whose record lexicons load lazily, mid-stream):
 * `node <packageDir>/firehose-worker.mjs <consumer> '<job JSON>'`.
 */
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import WebSocket from 'ws'

export const CONSUMERS = [
  'blueskysdk',
  'blueskysdk (validate: false)',
  'blueskysdk (verify)',
  '@atproto/sync',
  '@atproto/sync (authenticated)',
  '@skyware/firehose',
] as const
/** Not a consumer: a `ws` client that only counts, for what the replay and the socket deliver at most. */
export const BASELINE = 'ws (count only)'
export type Consumer = (typeof CONSUMERS)[number] | typeof BASELINE

export interface WorkerJob {
  /** The built package (./package.ts): ours is imported from its `dist/`. */
  packageDir: string
  /** The replay server: `http://127.0.0.1:<port>` (the consumers that want `ws://` get it). */
  service: string
  /** The replay's PLC directory (`http://127.0.0.1:<port>`): the repos' DID documents, for the verifying consumers. */
  plcUrl: string
  /** Frames in the replay. */
  frames: number
  /** Writes a V8 CPU profile of the consumption (from the subscription's start to its end) here. */
  profile?: string
}

export interface Result {
  /** Messages handed to the consumer's code (@atproto/sync: distinct seqs of its events). */
  messages: number
  /** Commit ops, and the records among them (decoded, and for ours validated, creates and updates). */
  ops: number
  records: number
  /** Messages or records reported as invalid or failing, and the first few reasons. */
  invalid: number
  errors: string[]
  ms: number
  perSecond: number
}

interface Counter {
  messages: number
  ops: number
  records: number
  invalid: number
  errors: string[]
  first: number | undefined
  last: number
}

const counter = (): Counter => ({ messages: 0, ops: 0, records: 0, invalid: 0, errors: [], first: undefined, last: 0 })
const note = (c: Counter, error: unknown) => {
  c.invalid++
  if (c.errors.length < 5) c.errors.push(error instanceof Error ? `${error.message}${causeOf(error)}` : String(error))
}
const causeOf = (error: Error): string => (error.cause instanceof Error ? ` (cause: ${error.cause.message})` : '')
const tick = (c: Counter) => {
  const now = performance.now()
  c.first ??= now
  c.last = now
}

async function loadOurs(packageDir: string) {
  const entry = (file: string) => pathToFileURL(path.join(packageDir, 'dist', file)).href
  const [{ Client }, { isCommit }, { signatureVerifier }] = await Promise.all([
    import(entry('src/index.js')) as Promise<typeof import('../../src/index.js')>,
    import(entry('generated/com/atproto/sync/subscribeRepos.js')) as Promise<
      typeof import('../../generated/com/atproto/sync/subscribeRepos.js')
    >,
    import(entry('src/verify.js')) as Promise<typeof import('../../src/verify.js')>,
  ])
  return { Client, isCommit, signatureVerifier }
}

async function blueskysdk(job: WorkerJob, validate: boolean, verify: boolean): Promise<Counter> {
  const { Client, isCommit, signatureVerifier } = await loadOurs(job.packageDir)
  const c = counter()
  const subscription = new Client({ service: job.service }).com.atproto.sync.subscribeRepos(
    { cursor: 0 },
    {
      webSocket: WebSocket,
      reconnect: false,
      validate,
      // Keys from the replay's PLC over HTTP, each DID's document once (the resolver caches it).
      verify: verify ? signatureVerifier({ plcUrl: job.plcUrl }) : undefined,
      onInvalidMessage: (error) => {
        tick(c)
        note(c, error)
      },
    },
  )
  for await (const message of subscription) {
    tick(c)
    c.messages++
    if (isCommit(message)) {
      for (const op of message.ops) {
        c.ops++
        if (op.action === 'delete') continue
        if (op.invalid) note(c, new Error(`${op.path}: ${JSON.stringify(op.invalid)}`))
        else if (op.record && typeof op.record.$type === 'string') c.records++
      }
    }
    if (c.messages + c.invalid >= job.frames) break
  }
  // The server's normal close ends the loop (reconnect is off); a frame short of the recording is a failure.
  if (c.messages + c.invalid < job.frames)
    throw new Error(`ours read ${c.messages + c.invalid} of ${job.frames} frames`)
  return c
}

async function atprotoSync(job: WorkerJob, authenticated: boolean): Promise<Counter> {
  const { Firehose } = await import('@atproto/sync')
  const { IdResolver, MemoryCache } = await import('@atproto/identity')
  type Options = ConstructorParameters<typeof Firehose>[0]
  const c = counter()
  let lastSeq: number | undefined
  let failed: unknown
  const firehose = new Firehose({
    service: job.service.replace(/^http/, 'ws'),
    idResolver: authenticated
      ? // The replay's PLC, each document cached as a deployment would (without a cache it asks per commit).
        // Node's own fetch: since @atproto/identity 0.5 the default one refuses IP hosts (the replay's PLC
        // is on 127.0.0.1); older versions ignore the option.
        new IdResolver({ plcUrl: job.plcUrl, didCache: new MemoryCache(), ...({ fetch: globalThis.fetch } as object) })
      : // No identity lookups: an #identity event gets no DID document.
        ({ did: { resolve: async () => null } } as unknown as Options['idResolver']),
    // Unauthenticated: no signature check, so no key lookup; the commit's blocks are still read and their CIDs checked.
    // Authenticated: the commit's signature by the repo's key, and each op by an MST proof (verifyProofs).
    unauthenticatedCommits: !authenticated,
    unauthenticatedHandles: true, // a handle check asks DNS or the handle's host: .test handles have neither
    // Its keep-alive drops a connection whose pong has not come back in 10 s; verifying at its pace, the
    // pong waits behind megabytes of frames already sent (the replay's and the kernel's buffers), and a
    // reconnection would start the stream over. The heartbeat kept, but longer than that wait (the
    // option is passed on to its WebSocketKeepAlive; its own type does not list it).
    ...({ heartbeatIntervalMs: 120_000 } as object),
    handleEvent: (event) => {
      tick(c)
      if (event.seq !== lastSeq) {
        lastSeq = event.seq
        c.messages++
      }
      if (event.event === 'create' || event.event === 'update' || event.event === 'delete') {
        c.ops++
        if (event.event !== 'delete' && typeof event.record.$type === 'string') c.records++
      }
    },
    onError: (error) => {
      note(c, error)
      // A dropped subscription would be retried from no cursor: the whole replay again.
      if (error.name === 'FirehoseSubscriptionError' || error.message === 'error on firehose subscription') {
        failed = error
        void firehose.destroy()
      }
    },
  })
  // It ends by itself when the server closes the stream after its last frame, each event handled in turn.
  await firehose.start()
  if (failed) throw failed
  return c
}

async function skyware(job: WorkerJob): Promise<Counter> {
  const { Firehose } = await import('@skyware/firehose')
  const c = counter()
  const firehose = new Firehose({
    relay: job.service.replace(/^http/, 'ws'),
    cursor: '0',
    ws: WebSocket,
    autoReconnect: false,
  })
  return new Promise<Counter>((resolve, reject) => {
    let closed: ReturnType<typeof setTimeout> | undefined
    const seen = () => {
      tick(c)
      if (c.messages + c.invalid >= job.frames) {
        clearTimeout(closed)
        firehose.close()
        resolve(c)
      }
    }
    const message = () => {
      c.messages++
      seen()
    }
    firehose.on('commit', (commit) => {
      for (const op of commit.ops) {
        c.ops++
        if (op.action !== 'delete' && typeof (op.record as { $type?: unknown }).$type === 'string') c.records++
      }
      message()
    })
    for (const type of ['identity', 'account', 'sync', 'info', 'unknown'] as const)
      firehose.on(type as 'identity', () => message())
    firehose.on('error', ({ error }) => {
      note(c, error)
      seen()
    })
    firehose.on('websocketError', ({ error }) => reject(new Error(`websocket error: ${String(error)}`)))
    // Messages are parsed asynchronously: some may still be on their way when the socket closes.
    firehose.on('close', () => {
      closed = setTimeout(
        () => reject(new Error(`closed after ${c.messages + c.invalid} of ${job.frames} messages`)),
        10_000,
      )
    })
    firehose.start()
  })
}

async function baseline(job: WorkerJob): Promise<Counter> {
  const c = counter()
  const url = `${job.service.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=0`
  const socket = new WebSocket(url, { perMessageDeflate: false })
  return new Promise<Counter>((resolve, reject) => {
    socket.on('message', () => {
      tick(c)
      if (++c.messages >= job.frames) {
        socket.close()
        resolve(c)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => reject(new Error(`closed after ${c.messages} of ${job.frames} messages`)))
  })
}

const consume = (consumer: Consumer, job: WorkerJob): Promise<Counter> => {
  switch (consumer) {
    case 'blueskysdk':
      return blueskysdk(job, true, false)
    case 'blueskysdk (validate: false)':
      return blueskysdk(job, false, false)
    case 'blueskysdk (verify)':
      return blueskysdk(job, true, true)
    case '@atproto/sync':
      return atprotoSync(job, false)
    case '@atproto/sync (authenticated)':
      return atprotoSync(job, true)
    case '@skyware/firehose':
      return skyware(job)
    case BASELINE:
      return baseline(job)
    default:
      throw new Error(`unknown consumer ${consumer as string}`)
  }
}

// Run as a script (./firehose.ts imports this file only for its names and types).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const consumer = process.argv[2] as Consumer
  const job = JSON.parse(process.argv[3]) as WorkerJob
  // Loaded before the profiler starts: what is measured is the consumption, not the imports.
  if (consumer.startsWith('blueskysdk')) await loadOurs(job.packageDir)
  if (consumer.startsWith('@atproto/sync')) await Promise.all([import('@atproto/sync'), import('@atproto/identity')])
  if (consumer === '@skyware/firehose') await import('@skyware/firehose')
  let session: Session | undefined
  if (job.profile) {
    session = new Session()
    session.connect()
    await session.post('Profiler.enable')
    await session.post('Profiler.setSamplingInterval', { interval: 500 })
    await session.post('Profiler.start')
  }
  const c = await consume(consumer, job)
  if (session) {
    const { profile } = await session.post('Profiler.stop')
    await writeFile(job.profile!, JSON.stringify(profile))
  }
  const ms = c.last - (c.first ?? c.last)
  const result: Result = {
    messages: c.messages,
    ops: c.ops,
    records: c.records,
    invalid: c.invalid,
    errors: c.errors,
    ms,
    perSecond: (job.frames / ms) * 1000,
  }
  console.log(JSON.stringify(result))
  process.exit(0) // whatever a consumer leaves open (timers, a closing socket)
}

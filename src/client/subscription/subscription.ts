import type { SubscriptionEndpoint, ErrorClasses } from '../../runtime/descriptors.js'
import { UsageError, ValidationError } from '../../runtime/errors.js'
import { type LexSchema, validate } from '../../runtime/schema/core.js'
import { xrpcUrl } from '../transport.js'
import { webSocketClass } from './socket.js'
import type { ResolvedSubscribeOptions, SubscriptionStream } from './stream.js'
import type { SubscribeOptions, Subscription, SubscriptionStats } from '../../runtime/subscription.js'

/** What the client gives a subscription: where to connect, and the lexicons it knows records by. */
export interface SubscriptionContext {
  endpoint: () => Promise<SubscriptionEndpoint<string, unknown, unknown, ErrorClasses>>
  /** The base URL of the service (http(s) or ws(s)). */
  baseUrl: () => Promise<string>
  recordSchema: (collection: string) => Promise<LexSchema<unknown> | undefined>
  validate: boolean
}

const DEFAULTS = {
  reconnect: { minDelayMs: 500, maxDelayMs: 30_000, maxAttempts: Infinity },
  maxBufferedMessages: 1000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxFrameBytes: 8 * 1024 * 1024,
  stallTimeoutMs: 60_000,
}

/**
 * A subscription (`client.com.atproto.sync.subscribeRepos({ cursor })`): an async iterable of the
 * lexicon's messages, typed by `$type` (the generated guards tell them apart) and validated. It
 * connects when the loop first asks for a message, reconnects after a dropped or stalled connection
 * (resuming after the last seq it received, so nothing is lost), reads at most
 * `maxBufferedMessages` ahead of the loop (then stops reading from the socket), and ends with a
 * typed error on an error frame (`FutureCursorError`, …), or cleanly on `close()` or the signal.
 *
 * At-least-once: a message counts as handled once the loop asks for the next one (or calls
 * `commit()`); only then does the cursor (and the `cursorStore`) move past it. A loop body that
 * throws or breaks leaves its message uncommitted, so the next run (from the store) starts with it.
 * Iterate a subscription once.
 */
export class WebSocketSubscription<M> implements Subscription<M> {
  readonly nsid: string
  readonly #context: SubscriptionContext
  readonly #params: Record<string, unknown>
  readonly #options: SubscribeOptions
  #stream: Promise<SubscriptionStream> | undefined
  #engine: SubscriptionStream | undefined
  #closed = false

  constructor(nsid: string, context: SubscriptionContext, params: Record<string, unknown>, options: SubscribeOptions) {
    this.nsid = nsid
    this.#context = context
    this.#params = { ...params }
    this.#options = { ...options }
    options.signal?.addEventListener('abort', () => void this.close(), { once: true })
  }

  [Symbol.asyncIterator](): this {
    return this
  }

  next(): Promise<IteratorResult<M, undefined>> {
    if (this.#closed || this.#options.signal?.aborted) return Promise.resolve({ done: true, value: undefined })
    // Once open, straight to the engine: no async frame of its own per message.
    if (this.#engine) return this.#engine.next() as Promise<IteratorResult<M, undefined>>
    return (this.#stream ??= this.#open()).then((stream) => stream.next() as Promise<IteratorResult<M, undefined>>)
  }

  /** Ends the loop (for-await calls this on `break` and on a throw): the message being handled stays uncommitted. */
  async return(): Promise<IteratorResult<M, undefined>> {
    await this.close()
    return { done: true, value: undefined }
  }

  /** Marks the message being handled as done now, rather than when the loop asks for the next one (before a `break`). */
  commit(): void {
    this.#engine?.commit()
  }

  /** Closes the connection; the loop ends. Resolves once the cursor store holds the last committed cursor. */
  async close(): Promise<void> {
    this.#closed = true
    const stream = await this.#stream?.catch(() => undefined)
    await stream?.close()
  }

  /** The seq of the last message handled: where a new subscription would resume. */
  get cursor(): number | undefined {
    return this.#engine?.cursor
  }

  /** What the connection has done so far (all zero until the loop first asks). */
  readonly stats: SubscriptionStats = {
    received: 0,
    duplicates: 0,
    reconnects: 0,
    pauses: 0,
    invalid: 0,
    buffered: 0,
    peakBuffered: 0,
  }

  async #open(): Promise<SubscriptionStream> {
    const options = this.#options
    const WebSocket = webSocketClass(options.webSocket)
    if (!WebSocket)
      throw new UsageError(
        `${this.nsid}: this runtime has no global WebSocket (Node 20): pass one, e.g. \`{ webSocket: WebSocket }\` with \`import WebSocket from 'ws'\``,
      )
    const [endpoint, base, { SubscriptionStream }] = await Promise.all([
      this.#context.endpoint(),
      this.#context.baseUrl(),
      import('./stream.js'),
    ])
    const validating = options.validate ?? this.#context.validate
    if (validating && endpoint.params) {
      const result = validate(endpoint.params, this.#params)
      if (!result.success) throw new ValidationError(this.nsid, 'params', result.issues)
    }
    const cursorParam = this.#params.cursor
    const startCursor = typeof cursorParam === 'number' ? cursorParam : await options.cursorStore?.get()
    const resolved: ResolvedSubscribeOptions = {
      url: (params) => xrpcUrl(base, endpoint.nsid, params),
      recordSchema: this.#context.recordSchema,
      cursorStore: options.cursorStore,
      validate: validating,
      reconnect: options.reconnect === false ? false : { ...DEFAULTS.reconnect, ...options.reconnect },
      maxBufferedMessages: options.maxBufferedMessages ?? DEFAULTS.maxBufferedMessages,
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
      maxFrameBytes: options.maxFrameBytes ?? DEFAULTS.maxFrameBytes,
      stallTimeoutMs: options.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs,
      onInvalidMessage: options.onInvalidMessage,
      onReconnect: options.onReconnect,
      verify: options.verify,
    }
    const stream = new SubscriptionStream(endpoint, this.#params, resolved, WebSocket, startCursor, this.stats)
    this.#engine = stream
    if (this.#closed) await stream.close()
    return stream
  }

  toJSON(): Record<string, unknown> {
    return { nsid: this.nsid, cursor: this.cursor ?? null }
  }
}

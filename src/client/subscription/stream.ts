import type { ErrorClasses, SubscriptionEndpoint } from '../../runtime/descriptors.js'
import { STANDARD_ERRORS, XRPCError } from '../../runtime/errors.js'
import type { LexSchema } from '../../runtime/schema/core.js'
import { validate } from '../../runtime/schema/core.js'
import { NetworkError } from '../errors.js'
import { decodeFrame, InvalidFrameError } from './frames.js'
import { type CarRead, InvalidCarError, readCar } from './car.js'
import { collectionOf, collectionsOf, InvalidEventError, recordOperations } from './repo-commit.js'
import { verifyLabels, verifyRepoEvent } from './verify-commit.js'
import { frameBytes, openSocket, webSocketUrl } from './socket.js'
import {
  type CursorStore,
  InvalidMessageError,
  type ReconnectEvent,
  type ReconnectOptions,
  LabelVerificationError,
  type SignatureChecker,
  RepoVerificationError,
  type SubscriptionStats,
  type WebSocketConstructor,
  type WebSocketLike,
} from '../../runtime/subscription.js'

/** What the engine reads: the options with their defaults, and what the client supplies. */
export interface ResolvedSubscribeOptions {
  url: (params: Record<string, unknown>) => string
  recordSchema: (collection: string) => Promise<LexSchema<unknown> | undefined>
  cursorStore: CursorStore | undefined
  validate: boolean
  reconnect: Required<ReconnectOptions> | false
  maxBufferedMessages: number
  maxBufferedBytes: number
  maxFrameBytes: number
  stallTimeoutMs: number
  onInvalidMessage: ((error: InvalidMessageError) => void) | undefined
  onReconnect: ((event: ReconnectEvent) => void) | undefined
  verify: SignatureChecker | undefined
}

type MessageItem = {
  kind: 'message'
  type: string
  body: Record<string, unknown>
  seq: number | undefined
  size: number
}
type Item = MessageItem | { kind: 'invalid'; error: InvalidMessageError; seq: number | undefined; size: number }

/** Error frames after which the server's stream is still there to come back to. */
const RESUMABLE_ERRORS = new Set(['ConsumerTooSlow'])

const REPO_COMMIT = 'com.atproto.sync.subscribeRepos#commit'
const REPO_SYNC = 'com.atproto.sync.subscribeRepos#sync'
const LABELS = 'com.atproto.label.subscribeLabels#labels'
const SCHEMA_CACHE_LIMIT = 10_000

/**
 * The engine of a subscription (loaded on its first `next()`, so that an app that never subscribes
 * bundles none of it): one WebSocket at a time, a bounded queue of decoded frames between it and the
 * consumer, reconnection, and the cursor.
 *
 * Three cursors: `received`, the last seq taken off the socket (a reconnection asks for what comes
 * after it, and frames at or below it are duplicates); `delivered`, the seq of the message last
 * handed to the consumer; `committed`, the last one whose handling is done (the consumer asked for
 * the next message, or called `commit()`), which is what the cursor store holds. So a crash, a
 * thrown handler or a `break` loses nothing: the next run starts after the last committed message,
 * and what it sees twice is at most what was delivered since the store's last write.
 */
export class SubscriptionStream {
  /** The subscription's counters, kept here and read through it. */
  readonly stats: SubscriptionStats
  readonly #endpoint: SubscriptionEndpoint<string, unknown, unknown, ErrorClasses>
  readonly #options: ResolvedSubscribeOptions
  readonly #WebSocket: WebSocketConstructor
  readonly #params: Record<string, unknown>
  readonly #takesCursor: boolean

  // A queue read from `#head` (shift() is O(n)); compacted as it drains.
  #queue: Item[] = []
  #head = 0
  #bufferedBytes = 0

  #socket: WebSocketLike | undefined
  /** Paused by us, because the queue is full: by `socket.pause()`, or by closing it (then `#reopenOnDrain`). */
  #paused = false
  #reopenOnDrain = false
  #attempt = 0
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #stallTimer: ReturnType<typeof setInterval> | undefined
  #lastHeard = 0

  #received: number | undefined
  #delivered: number | undefined
  #committed: number | undefined
  #storing: Promise<void> | undefined
  #storeAgain = false

  /**
   * Record schemas by collection, loaded once each (undefined for one the client doesn't know). A
   * firehose names any collection: past SCHEMA_CACHE_LIMIT the cache starts over rather than grow.
   */
  readonly #schemas = new Map<string, LexSchema<unknown> | undefined>()
  readonly #schemaOf = (collection: string) => this.#schemas.get(collection)

  /** What ends the stream once the queue is read: a terminal error frame, a broken cursor store, retries spent. */
  #failure: unknown
  #closed = false
  /** The server closed the stream normally and `reconnect` is off: the loop ends after the queue. */
  #ended = false
  #wake: (() => void) | undefined

  constructor(
    endpoint: SubscriptionEndpoint<string, unknown, unknown, ErrorClasses>,
    params: Record<string, unknown>,
    options: ResolvedSubscribeOptions,
    WebSocket: WebSocketConstructor,
    startCursor: number | undefined,
    stats: SubscriptionStats,
  ) {
    this.stats = stats
    this.#endpoint = endpoint
    this.#options = options
    this.#WebSocket = WebSocket
    this.#params = params
    this.#takesCursor = endpoint.params !== undefined && 'cursor' in endpoint.params.entries
    this.#received = startCursor
    this.#committed = startCursor
    this.#connect()
  }

  /** The seq of the last message handled (the cursor a new subscription would resume after). */
  get cursor(): number | undefined {
    return this.#committed
  }

  next(): Promise<IteratorResult<unknown, undefined>> {
    this.commit()
    // A message waiting whose delivery awaits nothing (the common case on a busy stream) is handed
    // over without an async frame: a firehose delivers tens of thousands a second.
    try {
      while (!this.#closed) {
        const item = this.#take()
        if (!item) break
        if (this.#mustAwait(item)) return this.#ending(this.#next(item))
        const value = this.#deliverNow(item)
        if (value !== undefined) return Promise.resolve({ done: false, value })
      }
    } catch (error) {
      return this.#ending(Promise.reject(error))
    }
    return this.#ending(this.#next())
  }

  /** A stream that throws is over (for-await calls no `return()` after a throwing `next()`). */
  async #ending(result: Promise<IteratorResult<unknown, undefined>>): Promise<IteratorResult<unknown, undefined>> {
    try {
      return await result
    } catch (error) {
      await this.close()
      throw error
    }
  }

  /** The next message, waiting for one (or, given `taken`, delivering it first) and awaiting what delivery needs. */
  async #next(taken?: Item): Promise<IteratorResult<unknown, undefined>> {
    for (;;) {
      if (this.#closed) return { done: true, value: undefined }
      const item = taken ?? this.#take()
      taken = undefined
      if (item) {
        const value = this.#mustAwait(item) ? await this.#deliverAwaited(item) : this.#deliverNow(item)
        if (value !== undefined) return { done: false, value }
        continue
      }
      if (this.#failure !== undefined) throw this.#failure
      if (this.#ended) {
        await this.close()
        return { done: true, value: undefined }
      }
      await new Promise<void>((resolve) => (this.#wake = resolve))
    }
  }

  /** Marks the message last delivered as handled: the cursor store moves past it. */
  commit(): void {
    if (this.#delivered === undefined) return
    this.#committed = this.#delivered
    this.#delivered = undefined
    this.#store()
  }

  /** Closes the socket and waits for the cursor store's last write. Messages delivered and not committed stay uncommitted. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true
      clearTimeout(this.#retryTimer)
      this.#dropSocket()
      this.#queue = []
      this.#head = 0
      this.#bufferedBytes = 0
      this.stats.buffered = 0
      this.#wakeUp()
    }
    while (this.#storing) await this.#storing
  }

  // --- the socket ------------------------------------------------------------------------------

  #connect(): void {
    if (this.#closed) return
    const params = { ...this.#params }
    if (this.#takesCursor && this.#received !== undefined) params.cursor = this.#received
    let socket: WebSocketLike
    try {
      socket = openSocket(this.#WebSocket, webSocketUrl(this.#options.url(params)), this.#options.maxFrameBytes)
    } catch (error) {
      this.#fail(
        new NetworkError(`Cannot open ${this.#endpoint.nsid}: ${(error as Error).message}`, this.#endpoint.nsid, {
          cause: error,
        }),
      )
      return
    }
    this.#socket = socket
    this.#lastHeard = Date.now()
    const onData = (data: unknown) => {
      if (socket !== this.#socket) return
      this.#lastHeard = Date.now()
      this.#onFrame(data)
    }
    // ws's own event hands over the data as it is; its `onmessage` wraps each in a MessageEvent first.
    if (socket.on) socket.on('message', (data: unknown, isBinary: boolean) => onData(isBinary ? data : String(data)))
    else socket.onmessage = (event: { data: unknown }) => onData(event.data)
    socket.onclose = (event: { code: number; reason: string }) => {
      if (socket !== this.#socket) return
      this.#socket = undefined
      this.#stopStallWatch()
      // Without reconnection, a server that ends the stream normally ends the loop, once it has read the queue.
      if (this.#options.reconnect === false && event.code === 1000) {
        this.#ended = true
        this.#wakeUp()
        return
      }
      this.#onDisconnect(`closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`)
    }
    socket.onerror = () => {} // a close event follows, and says more
    socket.on?.('pong', () => (this.#lastHeard = Date.now()))
    this.#startStallWatch(socket)
  }

  /** A connection that says nothing, not even a pong, for `stallTimeoutMs` is dropped and reopened. */
  #startStallWatch(socket: WebSocketLike): void {
    const timeout = this.#options.stallTimeoutMs
    if (!(timeout > 0)) return
    this.#stallTimer = setInterval(
      () => {
        if (socket !== this.#socket || this.#paused) return
        if (Date.now() - this.#lastHeard < timeout) {
          socket.ping?.()
          return
        }
        this.#dropSocket()
        this.#onDisconnect(`stalled (nothing for ${timeout} ms)`)
      },
      Math.max(10, Math.floor(timeout / 3)),
    )
  }

  #stopStallWatch(): void {
    clearInterval(this.#stallTimer)
    this.#stallTimer = undefined
  }

  #dropSocket(): void {
    const socket = this.#socket
    this.#socket = undefined
    this.#stopStallWatch()
    if (!socket) return
    socket.onmessage = socket.onclose = null
    socket.onerror = () => {}
    // `terminate` (ws) drops at once: a stalled peer would never answer a closing handshake.
    if (socket.terminate) socket.terminate()
    else socket.close(1000)
  }

  #onDisconnect(reason: string, cause?: unknown): void {
    if (this.#closed || this.#failure !== undefined || this.#reopenOnDrain) return
    const { reconnect } = this.#options
    this.#attempt++
    if (reconnect === false || this.#attempt > reconnect.maxAttempts) {
      const tries = reconnect === false ? '' : ` after ${this.#attempt - 1} reconnection attempts`
      this.#fail(
        new NetworkError(`The ${this.#endpoint.nsid} stream ${reason}${tries}`, this.#endpoint.nsid, { cause }),
      )
      return
    }
    // Exponential, with half of it random, so that the consumers of a server that went down don't come back at once.
    const ceiling = Math.min(reconnect.maxDelayMs, reconnect.minDelayMs * 2 ** (this.#attempt - 1))
    const delayMs = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
    this.stats.reconnects++
    this.#options.onReconnect?.({ attempt: this.#attempt, delayMs, reason, cursor: this.#received })
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs)
  }

  #onFrame(data: unknown): void {
    const bytes = frameBytes(data)
    const nsid = this.#endpoint.nsid
    if (!bytes)
      return this.#push({ kind: 'invalid', error: invalidFrame(nsid, 'a text frame'), seq: undefined, size: 0 })
    if (bytes.length > this.#options.maxFrameBytes) {
      const reason = `${bytes.length} bytes, more than maxFrameBytes (${this.#options.maxFrameBytes})`
      return this.#push({ kind: 'invalid', error: invalidFrame(nsid, reason), seq: undefined, size: 0 })
    }
    let frame
    try {
      frame = decodeFrame(nsid, bytes)
    } catch (error) {
      if (!(error instanceof InvalidFrameError)) throw error
      return this.#push({
        kind: 'invalid',
        error: invalidFrame(nsid, error.message),
        seq: undefined,
        size: bytes.length,
      })
    }
    if (frame.op === -1) {
      const error = this.#errorOf(frame.error, frame.message)
      if (RESUMABLE_ERRORS.has(frame.error)) {
        this.#dropSocket()
        this.#onDisconnect(`ended with ${frame.error}`, error)
      } else {
        this.#dropSocket()
        this.#fail(error)
      }
      return
    }
    this.stats.received++
    const seq = typeof frame.body.seq === 'number' ? frame.body.seq : undefined
    if (seq !== undefined) {
      if (this.#received !== undefined && seq <= this.#received) {
        this.stats.duplicates++
        return
      }
      this.#received = seq
    }
    this.#attempt = 0 // the connection works: the next drop starts the backoff over
    this.#push({ kind: 'message', type: frame.type, body: frame.body, seq, size: bytes.length })
  }

  #errorOf(name: string, message: string | undefined): XRPCError {
    const Class = this.#endpoint.errors[name] ?? STANDARD_ERRORS[name] ?? XRPCError
    // status 0: an error frame is sent on an open stream, not as an HTTP answer.
    return new Class({ status: 0, error: name, message: message ?? `${name} (error frame)`, nsid: this.#endpoint.nsid })
  }

  #fail(error: unknown): void {
    if (this.#failure === undefined) this.#failure = error
    this.#wakeUp()
  }

  // --- the queue -------------------------------------------------------------------------------

  #push(item: Item): void {
    this.#queue.push(item)
    this.#bufferedBytes += item.size
    const buffered = ++this.stats.buffered
    if (buffered > this.stats.peakBuffered) this.stats.peakBuffered = buffered
    if (!this.#paused && this.#full()) this.#pause()
    this.#wakeUp()
  }

  #take(): Item | undefined {
    if (this.#head >= this.#queue.length) return undefined
    const item = this.#queue[this.#head]
    this.#queue[this.#head++] = undefined! // released: a taken item holds its frame's bytes
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
    this.#bufferedBytes -= item.size
    this.stats.buffered--
    if (this.#paused && this.#drained()) this.#resume()
    return item
  }

  #length(): number {
    return this.#queue.length - this.#head
  }

  #full(): boolean {
    return this.#length() >= this.#options.maxBufferedMessages || this.#bufferedBytes >= this.#options.maxBufferedBytes
  }

  #drained(): boolean {
    return (
      this.#length() <= this.#options.maxBufferedMessages / 2 &&
      this.#bufferedBytes <= this.#options.maxBufferedBytes / 2
    )
  }

  /** Stops reading: `ws` stops reading the TCP socket; a WebSocket that can't pause is closed, and reopened from `#received`. */
  #pause(): void {
    this.#paused = true
    this.stats.pauses++
    const socket = this.#socket
    if (socket?.pause) socket.pause()
    else {
      this.#reopenOnDrain = true
      this.#dropSocket()
    }
  }

  #resume(): void {
    this.#paused = false
    if (this.#reopenOnDrain) {
      this.#reopenOnDrain = false
      this.#connect()
    } else {
      this.#lastHeard = Date.now()
      this.#socket?.resume?.()
    }
  }

  #wakeUp(): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  // --- delivery --------------------------------------------------------------------------------

  /**
   * Whether delivering `item` awaits something: a signature or proof to verify, or a record lexicon
   * not loaded yet. Otherwise it is delivered synchronously (`#deliverNow`).
   */
  #mustAwait(item: Item): boolean {
    if (item.kind !== 'message') return false
    const { type, body } = item
    const repoEvent = (type === REPO_COMMIT && Array.isArray(body.ops)) || type === REPO_SYNC
    if (this.#options.verify && (repoEvent || type === LABELS)) return true
    if (!this.#options.validate || type !== REPO_COMMIT || !repoEvent) return false
    for (const op of body.ops as unknown[]) {
      const path = (op as { path?: unknown } | null)?.path
      if (typeof path === 'string' && !this.#schemas.has(collectionOf(path))) return true
    }
    return false
  }

  /**
   * The message of `item`, validated and (a repo commit) read into record operations; undefined if
   * it was reported as invalid. For an item that awaits nothing (`#mustAwait`).
   */
  #deliverNow(item: Item): unknown {
    if (item.kind === 'invalid') return this.#reportInvalid(item.error, item.seq)
    if (!this.#checkMessage(item)) return undefined
    const blocks = this.#blocksOf(item)
    if (blocks === null) return undefined
    return this.#complete(item, blocks)
  }

  /** `#deliverNow` with what it awaits: the event verified, the record lexicons loaded. */
  async #deliverAwaited(item: Item): Promise<unknown> {
    if (item.kind === 'invalid') return this.#reportInvalid(item.error, item.seq)
    if (!this.#checkMessage(item)) return undefined
    const { body, type, seq } = item
    const nsid = this.#endpoint.nsid
    const { verify } = this.#options
    if (type === LABELS && verify && Array.isArray(body.labels)) {
      try {
        await verifyLabels(body.labels as Record<string, unknown>[], verify)
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error
        return this.#reportInvalid(new LabelVerificationError(nsid, seq, type, error.message, []), seq)
      }
    }
    const blocks = this.#blocksOf(item)
    if (blocks === null) return undefined
    if (blocks && verify) {
      const repo = type === REPO_COMMIT ? body.repo : body.did
      const event = { did: repo as string, rev: body.rev as string, commit: body.commit }
      const ops = type === REPO_COMMIT && !body.tooBig ? (body.ops as { path: string; cid: unknown }[]) : undefined
      try {
        await verifyRepoEvent({ ...event, ops }, blocks.roots(), blocks.blocks, verify)
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error
        return this.#reportInvalid(new RepoVerificationError(nsid, seq, type, error.message, []), seq)
      }
    }
    if (blocks && type === REPO_COMMIT && this.#options.validate) {
      const collections = collectionsOf(body as unknown as Parameters<typeof collectionsOf>[0])
      // Cleared before, never between, the loads: each of this commit's collections must be there after.
      if (this.#schemas.size + collections.length > SCHEMA_CACHE_LIMIT) this.#schemas.clear()
      for (const collection of collections) {
        if (!this.#schemas.has(collection)) this.#schemas.set(collection, await this.#options.recordSchema(collection))
      }
    }
    return this.#complete(item, blocks)
  }

  /** The message against its lexicon (with its `$type` set); false if it was reported as invalid. */
  #checkMessage(item: MessageItem): boolean {
    const { body, type, seq } = item
    body.$type = type
    const { message } = this.#endpoint
    if (!this.#options.validate || !message) return true
    const result = validate(message as LexSchema<unknown>, body)
    if (result.success) return true
    this.#reportInvalid(new InvalidMessageError(this.#endpoint.nsid, seq, type, undefined, result.issues), seq)
    return false
  }

  /** A repo event's CAR, read (undefined for other messages; null if it was reported as invalid). */
  #blocksOf(item: MessageItem): CarRead | undefined | null {
    const { body, type, seq } = item
    if (!((type === REPO_COMMIT && Array.isArray(body.ops)) || type === REPO_SYNC)) return undefined
    try {
      return readCar(bytesOf(body.blocks))
    } catch (error) {
      if (!(error instanceof InvalidCarError)) throw error
      const reason = `its blocks are not a CAR file: ${error.message}`
      this.#reportInvalid(new InvalidMessageError(this.#endpoint.nsid, seq, type, reason, []), seq)
      return null
    }
  }

  /** A commit's ops as record operations (their lexicons loaded), and the message marked delivered. */
  #complete(item: MessageItem, blocks: CarRead | undefined): unknown {
    const { body, type, seq } = item
    if (blocks && type === REPO_COMMIT) {
      const commit = body as unknown as Parameters<typeof recordOperations>[0]
      try {
        body.ops = recordOperations(commit, blocks.blocks, this.#options.validate ? this.#schemaOf : undefined)
      } catch (error) {
        if (!(error instanceof InvalidEventError)) throw error
        return this.#reportInvalid(new InvalidMessageError(this.#endpoint.nsid, seq, type, error.message, []), seq)
      }
    }
    if (seq !== undefined) this.#delivered = seq
    return body
  }

  /**
   * An invalid message goes to `onInvalidMessage` and the stream goes on past it; with no handler it
   * ends the stream as the error, its cursor not committed.
   */
  #reportInvalid(error: InvalidMessageError, seq: number | undefined): undefined {
    this.stats.invalid++
    const handler = this.#options.onInvalidMessage
    if (!handler) throw error
    handler(error)
    if (seq !== undefined) this.#delivered = seq
    return undefined
  }

  // --- the cursor store ------------------------------------------------------------------------

  /** Writes the committed cursor: one write at a time, the latest value when it's done (a fast stream coalesces). */
  #store(): void {
    const store = this.#options.cursorStore
    if (!store) return
    if (this.#storing) {
      this.#storeAgain = true
      return
    }
    const write = async () => {
      do {
        this.#storeAgain = false
        await store.set(this.#committed!)
      } while (this.#storeAgain)
    }
    this.#storing = write()
      .catch((error: unknown) => {
        this.#dropSocket()
        this.#fail(error)
      })
      .finally(() => {
        this.#storing = undefined
        if (this.#storeAgain) this.#store() // committed between the last write and now
      })
  }
}

/** The bytes of a `bytes` field in its binary form (an empty array for none, as a `tooBig` commit may have). */
function bytesOf(value: unknown): Uint8Array {
  const buf = (value as { buf?: unknown } | undefined)?.buf
  return buf instanceof Uint8Array ? buf : new Uint8Array(0)
}

function invalidFrame(nsid: string, reason: string): InvalidMessageError {
  return new InvalidMessageError(nsid, undefined, undefined, `an unreadable frame: ${reason}`, [])
}

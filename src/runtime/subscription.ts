/**
 * Subscriptions as types and the plain parts of them (options, cursor stores, errors, the record
 * operations of a repo commit), for generated code and the client, which implements them over a
 * WebSocket (src/client/subscription).
 */
import type { AnyRecord, KnownRecords } from './calls.js'
import { BlueskySDKError, describeIssues } from './errors.js'
import type { LexSchema, ValidationIssue } from './schema/core.js'
import type { CidLink } from './schema/types.js'

/** A subscription: an async iterable of its lexicon's messages (see `WebSocketSubscription`, what the client returns). */
export interface Subscription<M> extends AsyncIterableIterator<M> {
  readonly nsid: string
  /** Marks the message being handled as done now, rather than when the loop asks for the next one. */
  commit(): void
  /** Closes the connection; the loop ends. Resolves once the cursor store holds the last committed cursor. */
  close(): Promise<void>
  /** The seq of the last message handled: where a new subscription would resume. */
  readonly cursor: number | undefined
  readonly stats: SubscriptionStats
}

/**
 * The messages of a subscription as it yields them: those of its lexicon, with a repo commit's
 * `ops` read into record operations.
 */
export type SubscriptionMessage<M> = M extends { $type: 'com.atproto.sync.subscribeRepos#commit'; ops: unknown }
  ? M & { ops: RepoOperation[] }
  : M

/** Where a subscription keeps its cursor between runs: the seq of the last message the app handled. */
export interface CursorStore {
  get(): Promise<number | undefined>
  set(cursor: number): Promise<void>
}

/** A cursor kept in memory: resumes within one process (a reconnection resumes by itself; this is for a new subscription). */
export class MemoryCursorStore implements CursorStore {
  #cursor: number | undefined
  constructor(cursor?: number) {
    this.#cursor = cursor
  }
  async get(): Promise<number | undefined> {
    return this.#cursor
  }
  async set(cursor: number): Promise<void> {
    this.#cursor = cursor
  }
}

export interface ReconnectOptions {
  /** The first wait after a dropped connection (default 500 ms); each next one doubles, half of it random. */
  minDelayMs?: number
  /** The longest wait (default 30 s). */
  maxDelayMs?: number
  /** Reconnections in a row without a frame in between before the stream ends with a `NetworkError` (default: no limit). */
  maxAttempts?: number
}

export interface ReconnectEvent {
  attempt: number
  delayMs: number
  /** What ended the connection (`closed (1006)`, `stalled (…)`, `ended with ConsumerTooSlow`). */
  reason: string
  /** The seq the new connection resumes after. */
  cursor: number | undefined
}

export interface SubscribeOptions {
  /**
   * Keeps the cursor between runs: read when the subscription opens (unless the params give a
   * `cursor`), written after each message the app has handled (see `Subscription`).
   */
  cursorStore?: CursorStore
  /** Ends the subscription (the loop ends, as with `close()`). */
  signal?: AbortSignal
  /** Validate each message (and a repo commit's records) against its lexicon (default: the client's response validation, on). */
  validate?: boolean
  /** The WebSocket class (default: the global `WebSocket`; on Node 20, which has none, pass `ws`'s). */
  webSocket?: WebSocketConstructor
  /**
   * Reconnection after a dropped or stalled connection, resuming after the last seq received;
   * `false` to end instead: with a `NetworkError`, or, when the server closed the stream normally
   * (1000), by ending the loop.
   */
  reconnect?: ReconnectOptions | false
  /** Messages read ahead of the app before reading pauses (default 1000). */
  maxBufferedMessages?: number
  /** Bytes of frames read ahead of the app before reading pauses (default 64 MiB). */
  maxBufferedBytes?: number
  /** The largest frame accepted (default 8 MiB; a commit's blocks may be 2 MB): a larger one is an invalid message. */
  maxFrameBytes?: number
  /** A connection with no frame (and, with `ws`, no answer to a ping) for this long is reopened (default 60 s; 0 for never). */
  stallTimeoutMs?: number
  /**
   * Called with each message that can't be read or doesn't match its lexicon; the stream goes on
   * past it. Without it, such a message ends the stream with the `InvalidMessageError`.
   */
  onInvalidMessage?: (error: InvalidMessageError) => void
  /** Called before each reconnection. */
  onReconnect?: (event: ReconnectEvent) => void
  /**
   * Verifies signed messages (`signatureVerifier()` of `blueskysdk/verify`): each `#commit` and
   * `#sync` of `com.atproto.sync.subscribeRepos` against what its repo signed, each label of
   * `com.atproto.label.subscribeLabels` against its labeler's key. One that fails is a
   * `RepoVerificationError` or `LabelVerificationError`, reported like an invalid message, never data.
   */
  verify?: SignatureChecker
}

/**
 * Checks signatures: whether `sig` is `did`'s signature of `data` by the key `keyId` of its DID
 * document (`atproto` for a repo, `atproto_label` for a labeler). `fresh`: look the key up again,
 * not from a cache (asked after a cached key failed: keys rotate).
 */
export interface SignatureChecker {
  check(did: string, keyId: string, data: Uint8Array, sig: Uint8Array, fresh: boolean): Promise<boolean>
}

export interface SubscriptionStats {
  /** Message frames read off the socket. */
  received: number
  /** Frames at or below the last seq received (a server replaying after a reconnection): skipped. */
  duplicates: number
  /** Reconnections after a dropped or stalled connection (or a resumable error frame). */
  reconnects: number
  /** Times reading paused because the loop was `maxBufferedMessages` behind (a WebSocket that can't pause was closed, then reopened). */
  pauses: number
  /** Messages reported as invalid. */
  invalid: number
  /** Messages read ahead of the loop now, and at most so far. */
  buffered: number
  peakBuffered: number
}

/**
 * A message of a subscription that can't be read (`reason`: a frame that is not DAG-CBOR, a commit
 * whose blocks are not a CAR file) or that doesn't match its lexicon (`issues`).
 */
export class InvalidMessageError extends BlueskySDKError {
  override name = 'InvalidMessageError'
  constructor(
    readonly nsid: string,
    /** The message's seq, when it has one that could be read. */
    readonly seq: number | undefined,
    /** The message's `$type`, when it could be read. */
    readonly type: string | undefined,
    readonly reason: string | undefined,
    readonly issues: ValidationIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      `Invalid message${type ? ` ${type}` : ''}${seq === undefined ? '' : ` (seq ${seq})`} from ${nsid}: ${reason ?? describeIssues(issues)}`,
      options,
    )
  }
  override toJSON(): Record<string, unknown> {
    const { name, message, nsid, seq, type, reason, issues } = this
    return { name, message, nsid, seq, type, reason, issues }
  }
}

/** A repo event that `verify` refused: its signature, its blocks or its ops' proof do not hold. */
export class RepoVerificationError extends InvalidMessageError {
  override name = 'RepoVerificationError'
}

/** A `#labels` message with a label that `verify` refused: unsigned, or not signed by its `src`'s label key. */
export class LabelVerificationError extends InvalidMessageError {
  override name = 'LabelVerificationError'
}

/**
 * What the subscription needs of a WebSocket: the WHATWG interface (the global `WebSocket` of
 * browsers, Deno, Bun and Node 22+), plus what `ws` adds and is used where present: `pause()` and
 * `resume()` (a slow consumer stops reading from the TCP socket) and `ping()` with `pong` events
 * (a stalled connection is found even when the stream is quiet).
 */
export interface WebSocketLike {
  binaryType: string
  // Handlers take `any`: each implementation types its events its own way (ws's MessageEvent, the DOM's).
  onopen: ((event: any) => void) | null
  onmessage: ((event: any) => void) | null
  onclose: ((event: any) => void) | null
  onerror: ((event: any) => void) | null
  close(code?: number, reason?: string): void
  pause?(): void
  resume?(): void
  ping?(): void
  terminate?(): void
  // ws's events: `message` (data and whether it is binary) instead of `onmessage`, and `pong`.
  on?(event: 'message' | 'pong', listener: (...args: any[]) => void): unknown
}

/** A WebSocket class: the global one, or `ws`'s (`import WebSocket from 'ws'`), which takes options third. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[], options?: object) => WebSocketLike

/**
 * A `#commit` of `com.atproto.sync.subscribeRepos` as record operations: each op of the lexicon's
 * `ops` (`action`, `path`, `cid`, `prev`) with its `collection` and `rkey`, and for a create or an
 * update the record itself, decoded from the commit's CAR blocks and, when the client knows the
 * collection's lexicon, validated against it.
 */
export type RepoOperation = RecordWrite | RecordDelete

interface OperationBase {
  /** `collection/rkey`, as the lexicon's op has it. */
  path: string
  collection: string
  rkey: string
  /** For updates and deletes: the record's previous CID, when the server sends it. */
  prev?: CidLink
}

export interface RecordWrite extends OperationBase {
  action: 'create' | 'update'
  cid: CidLink
  /** The record; undefined when the commit left its block out (a `tooBig` commit). */
  record: AnyRecord | undefined
  /** Why the record does not match its collection's lexicon, when the client knows it and validates. */
  invalid?: ValidationIssue[]
}

export interface RecordDelete extends OperationBase {
  action: 'delete'
  cid: null
  record?: undefined
}

/** A create or update of a record of `C`, whose record was checked against `C`'s lexicon. */
export type RecordWriteOf<C extends keyof KnownRecords> = RecordWrite & { collection: C; record: KnownRecords[C] }

/**
 * Whether `op` writes a record of `collection` that matches its lexicon: the type guard that makes
 * `op.record` a `KnownRecords[C]` (`isRecordWrite(op, 'app.bsky.feed.post') && op.record.text`).
 * False for a record that failed validation, and for one not validated (the client's `validate: false`)
 * whose `$type` is not the collection.
 */
export function isRecordWrite<C extends keyof KnownRecords>(op: RepoOperation, collection: C): op is RecordWriteOf<C> {
  return (
    op.action !== 'delete' &&
    op.collection === collection &&
    op.record !== undefined &&
    op.invalid === undefined &&
    op.record.$type === collection
  )
}

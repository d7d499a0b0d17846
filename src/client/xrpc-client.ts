import type { KyInstance } from 'ky'
import type { Call, CallOptions } from '../runtime/calls.js'
import type { Endpoint, HttpEndpoint, LexiconSet, SubscriptionEndpoint, ErrorClasses } from '../runtime/descriptors.js'
import { UsageError } from '../runtime/errors.js'
import { type Attempts, defaultDeadlineMs, retrySettings, type RetrySettings, sendAttempts } from './attempts.js'
import { type Auth, noAuth } from './auth.js'
import { LexiconRegistry, unknownMethod } from './lexicon-registry.js'
import { OriginLimiter } from './limiter.js'
import { attachNamespaces } from './namespaces.js'
import { checkRecords, writesRecords } from './record-checks.js'
import { redirectSafeFetch } from './redirects.js'
import type { SubscribeOptions } from '../runtime/subscription.js'
import { WebSocketSubscription } from './subscription/subscription.js'
import { type CallState, createRequest, fieldsOf } from './request-builder.js'
import {
  checked,
  checkServiceUrl,
  errorFromResponse,
  isBinary,
  isStream,
  JSON_ENCODING,
  parseResponse,
  requestBody,
  type RetryOptions,
  validationOf,
  xrpcUrl,
} from './transport.js'

export interface XRPCClientOptions {
  /**
   * The service to call: a PDS (`https://bsky.social`), an AppView, any XRPC server. May be left
   * out when the auth names one (a password session's PDS).
   */
  service?: string | URL
  /** How calls are authenticated: a `PasswordSession`, `BearerAuth`, an OAuth session's adapter; none by default. */
  auth?: Auth
  /**
   * Generated lexicon sets (each output directory's `client.ts` exports `lexicons`): their
   * endpoints become the namespaced API and `call('nsid')`, their records are checked on write.
   */
  lexicons?: LexiconSet | readonly LexiconSet[]
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof globalThis.fetch
  /** Per attempt, in ms (default 30 s): from sending to the last byte of the answer. */
  timeoutMs?: number
  /**
   * For the whole call, in ms: every attempt and every wait between them (default: enough for each
   * attempt to use all of `timeoutMs` and each wait its longest, 110 s with the defaults).
   */
  deadlineMs?: number
  /** Retries for queries and idempotent procedures on 429/502/503/504 and network errors; `false` for none. */
  retry?: RetryOptions | false
  /**
   * The largest answer body read, in bytes (default 16 MiB for JSON, 256 MiB for bytes such as
   * blobs and repo exports): a larger one is a `ResponseTooLargeError`, cut off unread.
   */
  maxResponseBytes?: number
  /** Requests in flight at once per server origin; more wait their turn (default 32). */
  maxConcurrentRequests?: number
  /** Validate requests (params, input, records) before sending and responses after (default true for both). */
  validate?: boolean | { request?: boolean; response?: boolean }
  /** Headers sent with every call. */
  headers?: Record<string, string>
  /** `atproto-proxy` for every call, e.g. to an AppView (`did:web:api.bsky.app#bsky_appview`). */
  proxy?: string
  /** `atproto-proxy` for `chat.bsky.*` calls (default `did:web:api.bsky.chat#bsky_chat`). */
  chatProxy?: string
  /** `atproto-accept-labelers` for every call. */
  labelers?: readonly string[]
}

const DEFAULT_CHAT_PROXY = 'did:web:api.bsky.chat#bsky_chat'
const DEFAULT_TIMEOUT_MS = 30_000
const MAX_JSON_BYTES = 16 * 1024 * 1024
const MAX_BINARY_BYTES = 256 * 1024 * 1024
const DEFAULT_CONCURRENCY = 32

/**
 * The XRPC client: `client.call(endpoint, …)` with an imported descriptor
 * (`import { getProfile } from 'blueskysdk/lexicons/app/bsky/actor/getProfile'`) pulls in only that
 * endpoint; given lexicon sets, it also calls by NSID and grows the namespaced API
 * (`client.com.example.getNote(…)`, typed by `createClient`).
 */
export class XRPCClient {
  /** What authenticates this client's calls (shared with any other client given the same object). */
  readonly auth: Auth
  readonly #options: Readonly<XRPCClientOptions>
  /** This client's ky instance, made with the first request (see ky.ts for why not sooner). */
  #ky: Promise<KyInstance> | undefined
  readonly #fetch: typeof globalThis.fetch
  readonly #lexicons: LexiconRegistry
  readonly #retry: RetrySettings
  readonly #limiter: OriginLimiter

  constructor(options: XRPCClientOptions) {
    if (options.service !== undefined) checkServiceUrl(options.service)
    this.#options = { ...options }
    this.#retry = retrySettings(options.retry)
    this.#limiter = new OriginLimiter(options.maxConcurrentRequests ?? DEFAULT_CONCURRENCY)
    this.auth = options.auth ?? noAuth
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    const { lexicons } = options
    this.#lexicons = new LexiconRegistry(
      lexicons === undefined ? [] : Array.isArray(lexicons) ? lexicons : [lexicons as LexiconSet],
    )
    attachNamespaces(this, this.#lexicons.authorities())
  }

  /** The account this client acts as, when its auth knows it (a logged-in session's DID). */
  get did(): string | undefined {
    return this.auth.did
  }

  /**
   * Calls an endpoint by its descriptor, or by NSID (`'app.bsky.actor.getProfile'`) when one of the
   * client's lexicon sets defines it: `(params, options)` for queries, `(input, options)` for procedures.
   */
  call<E extends Endpoint>(endpoint: E, ...args: Parameters<Call<E>>): ReturnType<Call<E>>
  call(nsid: string, ...args: unknown[]): unknown
  call(endpoint: Endpoint | string, ...args: unknown[]): unknown {
    const [first, options] = args as [Record<string, unknown> | undefined, SubscribeOptions | undefined]
    if (typeof endpoint !== 'string') {
      if (endpoint.type === 'subscription') return this.#subscribe(endpoint.nsid, async () => endpoint, first, options)
      return this.#request(endpoint.nsid, endpoint, args)
    }
    const subscription = this.#lexicons.subscription(endpoint)
    if (subscription) return this.#subscribe(endpoint, subscription, first, options)
    const load = this.#lexicons.endpoint(endpoint)
    if (!load) throw unknownMethod(endpoint)
    return this.#request(endpoint, load, args)
  }

  /** What `JSON.stringify(client)` shows: never a token or a header. */
  toJSON(): Record<string, unknown> {
    const { service } = this.#options
    // An auth shows itself only through its own toJSON: a custom one may hold a token in a field.
    const auth = this.auth === noAuth ? 'none' : typeof this.auth.toJSON === 'function' ? this.auth.toJSON() : 'custom'
    return { service: service === undefined ? null : String(service), did: this.did ?? null, auth }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} ${JSON.stringify(this.toJSON())}`
  }

  #request(nsid: string, endpoint: CallState['endpoint'], args: unknown[]): unknown {
    const [first, options] = args as [unknown, CallState['options'] | undefined]
    // Copied now, so that changing the object passed later changes no request (bytes are sent as they are).
    const state: CallState = {
      nsid,
      endpoint,
      first: first === undefined || isBinary(first) ? first : { ...first },
      edits: [],
      options: { ...options },
    }
    return createRequest(state, (s) => this.#send(s))
  }

  /**
   * Opens a subscription when first iterated (see `Subscription`). Subscriptions are public streams:
   * no auth is sent (browsers can't set headers on a WebSocket), only the service is the auth's.
   */
  #subscribe(
    nsid: string,
    endpoint: () => Promise<SubscriptionEndpoint<string, unknown, unknown, ErrorClasses>>,
    params: Record<string, unknown> | undefined,
    options: SubscribeOptions | undefined,
  ): WebSocketSubscription<unknown> {
    const context = {
      endpoint,
      baseUrl: () => this.#baseUrl(nsid),
      recordSchema: (collection: string) => this.#lexicons.record(collection),
      validate: validationOf(this.#options.validate).response,
    }
    return new WebSocketSubscription(nsid, context, params ?? {}, options ?? {})
  }

  /** The base URL a call of `nsid` goes to: the auth's choice, else the configured service. */
  async #baseUrl(nsid: string): Promise<string> {
    const url = (await this.auth.serviceUrl?.(nsid)) ?? this.#options.service
    if (url === undefined) throw new UsageError('No service: give the client a `service`, or an auth that names one')
    return String(url)
  }

  async #send(state: CallState): Promise<unknown> {
    const endpoint = typeof state.endpoint === 'function' ? await state.endpoint() : state.endpoint
    const fields = fieldsOf(endpoint.type, state)
    const validation = validationOf(state.options.validate ?? this.#options.validate)
    const params = validation.request ? checked(endpoint, 'params', fields.params) : fields.params
    let input = fields.input
    if (validation.request && endpoint.type === 'procedure' && endpoint.input?.schema) {
      input = checked(endpoint, 'input', input)
      if (writesRecords(endpoint.nsid)) await checkRecords(endpoint.nsid, input, (c) => this.#lexicons.record(c))
    }
    const { body, contentType } = requestBody(endpoint, input, fields.binary, state.options.encoding)
    const headers = this.#headers(endpoint.nsid, state.options, contentType)
    const options = this.#options
    const timeoutMs = state.options.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    const streamed = isStream(body)
    const retries =
      (endpoint.type === 'query' || state.options.idempotent === true) && !streamed ? this.#retry.limit : 0
    const context = { nsid: endpoint.nsid, fetch: redirectSafeFetch(this.#fetch, endpoint.nsid), replayable: !streamed }
    const url = xrpcUrl(await this.#baseUrl(endpoint.nsid), endpoint.nsid, params)
    const ky = await this.#loadKy()
    const binaryOutput = endpoint.output !== undefined && endpoint.output.encoding !== JSON_ENCODING
    const attempts: Attempts = {
      nsid: endpoint.nsid,
      origin: new URL(url).origin,
      send: (signal) =>
        ky(url, {
          method: endpoint.type === 'query' ? 'get' : 'post',
          headers,
          body,
          signal,
          timeout: false, // attempts.ts times each attempt, body included
          retry: 0, // and retries
          throwHttpErrors: false,
          fetch: (request: Request) => this.auth.fetch(request, context),
          ...(streamed ? { duplex: 'half' } : {}),
        } as Parameters<KyInstance>[1]),
      failure: (response) => errorFromResponse(endpoint, response),
      retries,
      retry: this.#retry,
      timeoutMs,
      deadlineMs: state.options.deadlineMs ?? options.deadlineMs ?? defaultDeadlineMs(timeoutMs, this.#retry, retries),
      maxResponseBytes:
        state.options.maxResponseBytes ??
        options.maxResponseBytes ??
        (binaryOutput ? MAX_BINARY_BYTES : MAX_JSON_BYTES),
      limiter: this.#limiter,
      signal: state.options.signal,
    }
    return parseResponse(endpoint, await sendAttempts(attempts), validation.response)
  }

  #loadKy(): Promise<KyInstance> {
    if (!this.#ky) {
      const loading = import('./ky.js').then(({ ky }) => ky.create({}))
      loading.catch(() => (this.#ky = undefined)) // a chunk that failed to load (offline) may be retried
      this.#ky = loading
    }
    return this.#ky
  }

  /**
   * A call's headers, later ones winning case-insensitively: routing, the client's, the call's, the
   * content type. A header fetch would refuse is refused here, naming it but not its value (which may
   * be a secret), before anything is sent.
   */
  #headers(nsid: string, options: CallOptions, contentType: string | undefined): Headers {
    const headers = new Headers()
    const layers = [
      this.#routingHeaders(nsid, options),
      this.#options.headers,
      options.headers,
      contentType ? { 'content-type': contentType } : undefined,
    ]
    for (const layer of layers) {
      for (const [name, value] of Object.entries(layer ?? {})) {
        try {
          headers.set(name, value)
        } catch {
          throw new UsageError(
            `The header ${JSON.stringify(name.slice(0, 64))} of a ${nsid} call cannot be sent (its value is not shown)`,
          )
        }
      }
    }
    return headers
  }

  #routingHeaders(nsid: string, options: CallOptions): Record<string, string> {
    const headers: Record<string, string> = {}
    const proxy =
      options.proxy !== undefined
        ? options.proxy
        : nsid.startsWith('chat.bsky.')
          ? (this.#options.chatProxy ?? DEFAULT_CHAT_PROXY)
          : this.#options.proxy
    if (proxy) headers['atproto-proxy'] = proxy
    const labelers = options.labelers ?? this.#options.labelers
    if (labelers?.length) headers['atproto-accept-labelers'] = labelers.join(', ')
    return headers
  }
}

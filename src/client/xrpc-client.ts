import ky, { HTTPError, TimeoutError as KyTimeoutError, type KyInstance, type Options as KyOptions } from 'ky'
import { validate } from '../schema/core.js'
import type { BinaryInput, HttpEndpoint } from './endpoint.js'
import {
  NetworkError,
  parseRateLimit,
  RateLimitError,
  ResponseValidationError,
  STANDARD_ERRORS,
  TimeoutError,
  ValidationError,
  XRPCError,
} from './errors.js'
import { type CallState, createRequest } from './request.js'
import { BinaryResponse } from './response.js'
import type { Call, CallOptions } from './types.js'

export interface RetryOptions {
  /** Retries after the first attempt (default 2). */
  limit?: number
  /** Longest wait between attempts, in ms (default 10 s); waits are exponential with full jitter. */
  backoffLimitMs?: number
  /** A 429 or 503 whose `retry-after`/`ratelimit-reset` is further away than this (ms, default 60 s) is not retried. */
  maxRetryAfterMs?: number
}

export interface XrpcClientOptions {
  /** The service to call: a PDS (`https://bsky.social`) or any XRPC server. */
  service: string | URL
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof globalThis.fetch
  /** Per attempt, in ms (default 30 s). */
  timeoutMs?: number
  /** Retries for queries and idempotent procedures on 429/502/503/504 and network errors; `false` for none. */
  retry?: RetryOptions | false
  /** Validate requests before sending and responses after (default true for both). */
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
const RETRY_STATUS = [429, 502, 503, 504]
const JSON_ENCODING = 'application/json'

/**
 * The XRPC client without the namespace tree: `client.call(endpoint, …)` with an imported descriptor
 * (`import { getProfile } from 'blueskysdk/lexicons/app/bsky/actor/getProfile'`) pulls in only that
 * endpoint. `Client` adds the namespaced API and sessions on top of it.
 */
export class XrpcClient {
  readonly #options: Readonly<XrpcClientOptions>
  readonly #http: KyInstance
  /** Retry policies, built once: retryable (queries, idempotent procedures) and not. */
  readonly #retry: { retryable: KyOptions['retry']; once: KyOptions['retry'] }

  constructor(options: XrpcClientOptions) {
    this.#options = { ...options }
    this.#http = ky.create({ fetch: options.fetch, throwHttpErrors: true })
    this.#retry = { retryable: retryPolicy(options.retry), once: { limit: 0 } }
  }

  /** Calls an endpoint by its descriptor: `(params, options)` for queries, `(input, options)` for procedures. */
  call<E extends HttpEndpoint>(endpoint: E, ...args: Parameters<Call<E>>): ReturnType<Call<E>>
  call(endpoint: HttpEndpoint, ...args: unknown[]): unknown {
    return this.request(endpoint.nsid, endpoint.type, endpoint, args[0], args[1] as CallOptions | undefined)
  }

  /** Builds the awaitable request for a call. */
  protected request(
    nsid: string,
    kind: 'query' | 'procedure',
    endpoint: CallState['endpoint'],
    first: unknown,
    options: (CallOptions & { params?: Record<string, unknown>; encoding?: string }) | undefined,
  ): unknown {
    const { params, ...rest } = options ?? {}
    const binary = kind === 'procedure' && isBinary(first) ? (first as BinaryInput) : undefined
    const state: CallState = {
      nsid,
      kind,
      endpoint,
      params: { ...(kind === 'query' ? (first as Record<string, unknown> | undefined) : params) },
      input:
        kind === 'procedure' && !binary && first !== undefined ? { ...(first as Record<string, unknown>) } : undefined,
      binary,
      options: rest,
    }
    return createRequest(state, (s) => this.send(s))
  }

  /** The options this client was made with (read-only: they may hold headers with secrets, so they are not enumerable). */
  protected get options(): Readonly<XrpcClientOptions> {
    return this.#options
  }

  /** What `JSON.stringify(client)` shows: never a token or a header. */
  toJSON(): Record<string, unknown> {
    return { service: this.serviceUrl() }
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `${this.constructor.name} ${JSON.stringify(this.toJSON())}`
  }

  /** The base URL a call goes to. `Client` sends to the PDS of the session once logged in. */
  protected serviceUrl(): string {
    return String(this.#options.service)
  }

  /** Headers that authenticate a call; `Client` adds the session's. */
  protected async authHeaders(_endpoint: HttpEndpoint): Promise<Record<string, string>> {
    return {}
  }

  /**
   * Whether a failed call should be sent again, once (`Client` refreshes an expired session here).
   * `authorization` is the header the failed attempt carried.
   */
  protected async shouldRetryAfter(
    _error: XRPCError,
    _endpoint: HttpEndpoint,
    _authorization?: string,
  ): Promise<boolean> {
    return false
  }

  protected async send(state: CallState): Promise<unknown> {
    const endpoint = typeof state.endpoint === 'function' ? await state.endpoint() : state.endpoint
    const validation = validationOf(state.options.validate ?? this.#options.validate)
    const params = validation.request ? checked(endpoint, 'params', state.params) : state.params
    const body = this.body(endpoint, state, validation.request)
    const sent: { authorization?: string } = {}
    try {
      return await this.attempt(endpoint, state, params, body, validation.response, sent)
    } catch (error) {
      if (
        error instanceof XRPCError &&
        !isStream(body.body) &&
        (await this.shouldRetryAfter(error, endpoint, sent.authorization))
      ) {
        return this.attempt(endpoint, state, params, body, validation.response, sent)
      }
      throw error
    }
  }

  private body(
    endpoint: HttpEndpoint,
    state: CallState,
    validateInput: boolean,
  ): { body?: BodyInit; contentType?: string } {
    if (endpoint.type !== 'procedure' || !endpoint.input) return {}
    const { encoding, schema } = endpoint.input
    if (encoding === JSON_ENCODING) {
      const input = validateInput && schema ? checked(endpoint, 'input', state.input) : state.input
      return { body: JSON.stringify(input ?? {}), contentType: JSON_ENCODING }
    }
    const contentType = state.options.encoding ?? (encoding.includes('*') ? undefined : encoding)
    if (state.binary === undefined)
      throw new ValidationError(endpoint.nsid, 'input', [{ path: '', message: 'is required (bytes, Blob or stream)' }])
    if (!contentType)
      throw new ValidationError(endpoint.nsid, 'input', [
        { path: '', message: `needs an encoding (accepts ${encoding})` },
      ])
    return { body: toBody(state.binary), contentType }
  }

  private async attempt(
    endpoint: HttpEndpoint,
    state: CallState,
    params: Record<string, unknown>,
    { body, contentType }: { body?: BodyInit; contentType?: string },
    validateResponse: boolean,
    sent: { authorization?: string },
  ): Promise<unknown> {
    const url = this.url(endpoint.nsid, params)
    const headers: Record<string, string> = {
      ...this.routingHeaders(endpoint.nsid, state.options),
      ...this.#options.headers,
      ...state.options.headers,
      ...(await this.authHeaders(endpoint)),
      ...(contentType ? { 'content-type': contentType } : {}),
    }
    sent.authorization = headers.authorization
    const timeoutMs = state.options.timeoutMs ?? this.#options.timeoutMs ?? 30_000
    const retryable = endpoint.type === 'query' || state.options.idempotent === true
    let response: Response
    try {
      response = await this.#http(url, {
        method: endpoint.type === 'query' ? 'get' : 'post',
        headers,
        body,
        signal: state.options.signal,
        timeout: timeoutMs,
        retry: retryable && !isStream(body) ? this.#retry.retryable : this.#retry.once,
        ...(isStream(body) ? { duplex: 'half' } : {}),
      } as KyOptions)
    } catch (error) {
      throw await this.translate(error, endpoint, timeoutMs)
    }
    return this.parse(endpoint, response, validateResponse)
  }

  private url(nsid: string, params: Record<string, unknown>): string {
    const base = this.serviceUrl()
    const url = new URL(`xrpc/${nsid}`, base.endsWith('/') ? base : `${base}/`)
    for (const [key, value] of Object.entries(params)) {
      if (value === undefined || value === null) continue
      // Arrays go as repeated keys (`?uris=a&uris=b`), as XRPC servers expect.
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item))
    }
    return url.toString()
  }

  private routingHeaders(nsid: string, options: CallOptions): Record<string, string> {
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

  private async translate(error: unknown, endpoint: HttpEndpoint, timeoutMs: number): Promise<unknown> {
    if (error instanceof HTTPError) return this.errorFromResponse(endpoint, error.response)
    if (error instanceof KyTimeoutError) return new TimeoutError(timeoutMs, endpoint.nsid)
    if (error instanceof Error && error.name === 'AbortError') return error // the caller's own signal
    const reason =
      error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)
    return new NetworkError(`${endpoint.nsid} failed: ${reason}`, endpoint.nsid, { cause: error })
  }

  private async errorFromResponse(endpoint: HttpEndpoint, response: Response): Promise<XRPCError> {
    let name = `HTTP${response.status}`
    let message: string | undefined
    try {
      const body = JSON.parse(await response.text()) as { error?: unknown; message?: unknown }
      if (typeof body.error === 'string') name = body.error
      if (typeof body.message === 'string') message = body.message
    } catch {
      // Not an XRPC error body (a proxy's HTML page, a dropped connection): the status says enough.
    }
    const init = { status: response.status, error: name, message, headers: response.headers, nsid: endpoint.nsid }
    if (response.status === 429) return new RateLimitError(init)
    const ErrorClass = endpoint.errors[name] ?? STANDARD_ERRORS[name] ?? XRPCError
    return new ErrorClass(init)
  }

  private async parse(endpoint: HttpEndpoint, response: Response, validateResponse: boolean): Promise<unknown> {
    const init = { headers: response.headers, status: response.status }
    const contentType = response.headers.get('content-type')
    const invalid = (message: string, issues = [{ path: '', message }]) =>
      new ResponseValidationError(endpoint.nsid, response.status, contentType, issues, response.headers)
    if (!endpoint.output) {
      await response.body?.cancel().catch(() => undefined)
      return new endpoint.response(undefined, init)
    }
    if (endpoint.output.encoding !== JSON_ENCODING) {
      try {
        return new BinaryResponse(new Uint8Array(await response.arrayBuffer()), init)
      } catch (error) {
        throw invalid(`body could not be read: ${(error as Error).message}`)
      }
    }
    let data: unknown
    try {
      data = JSON.parse(await response.text())
    } catch (error) {
      throw invalid(
        error instanceof SyntaxError ? 'body is not valid JSON' : `body could not be read: ${(error as Error).message}`,
      )
    }
    const { schema } = endpoint.output
    if (validateResponse && schema) {
      const result = validate(schema, data)
      if (!result.success) throw invalid('', result.issues)
      data = result.value
    }
    return new endpoint.response(data, init)
  }
}

function retryPolicy(retry: XrpcClientOptions['retry']): KyOptions['retry'] {
  if (retry === false) return { limit: 0 }
  const maxRetryAfter = retry?.maxRetryAfterMs ?? 60_000
  return {
    limit: retry?.limit ?? 2,
    methods: ['get', 'post'],
    statusCodes: RETRY_STATUS,
    afterStatusCodes: [429, 503],
    backoffLimit: retry?.backoffLimitMs ?? 10_000,
    jitter: true,
    // A limit that resets minutes from now is better reported than slept through.
    shouldRetry: ({ error }) => {
      if (!(error instanceof HTTPError) || error.response.status !== 429) return undefined
      const reset = parseRateLimit(error.response.headers)?.reset
      return reset && reset.getTime() - Date.now() > maxRetryAfter ? false : undefined
    },
  }
}

function validationOf(setting: XrpcClientOptions['validate']): { request: boolean; response: boolean } {
  if (typeof setting === 'boolean' || setting === undefined)
    return { request: setting ?? true, response: setting ?? true }
  return { request: setting.request ?? true, response: setting.response ?? true }
}

function checked(endpoint: HttpEndpoint, part: 'params' | 'input', value: unknown): Record<string, unknown> {
  const schema =
    part === 'params' ? endpoint.params : endpoint.type === 'procedure' ? endpoint.input?.schema : undefined
  if (!schema) return value as Record<string, unknown>
  const result = validate(schema, value ?? (part === 'params' ? {} : undefined))
  if (!result.success) throw new ValidationError(endpoint.nsid, part, result.issues)
  return result.value as Record<string, unknown>
}

function isBinary(value: unknown): boolean {
  return (
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && value instanceof Blob) ||
    (typeof ReadableStream !== 'undefined' && value instanceof ReadableStream) ||
    typeof value === 'string'
  )
}

function isStream(body: unknown): body is ReadableStream {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream
}

function toBody(input: BinaryInput): BodyInit {
  return input instanceof Uint8Array ? (input as Uint8Array<ArrayBuffer>) : input
}

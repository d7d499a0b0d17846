import type { Options as KyOptions } from 'ky'
import type { BinaryInput, HttpEndpoint } from '../runtime/descriptors.js'
import {
  BlueskySDKError,
  parseRateLimit,
  RateLimitError,
  STANDARD_ERRORS,
  ValidationError,
  XRPCError,
} from '../runtime/errors.js'
import { BinaryResponse } from '../runtime/response.js'
import { validate } from '../runtime/schema/core.js'
import { NetworkError, ResponseValidationError, TimeoutError } from './errors.js'
import type * as Ky from './ky.js'

/**
 * The HTTP side of a call: bodies, retry policy, and answers turned into responses or typed errors.
 * ky itself is loaded with a client's first request (see ky.ts), and handed in where it is needed.
 */

export type KyModule = typeof Ky

export interface RetryOptions {
  /** Retries after the first attempt (default 2). */
  limit?: number
  /** Longest wait between attempts, in ms (default 10 s); waits are exponential with full jitter. */
  backoffLimitMs?: number
  /** A 429 or 503 whose `retry-after`/`ratelimit-reset` is further away than this (ms, default 60 s) is not retried. */
  maxRetryAfterMs?: number
}

const RETRY_STATUS = [429, 502, 503, 504]
export const JSON_ENCODING = 'application/json'

export function retryPolicy(retry: RetryOptions | false | undefined, { HTTPError }: KyModule): KyOptions['retry'] {
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
      if (error instanceof BlueskySDKError) return false // raised by the auth (a refused refresh): final
      if (!(error instanceof HTTPError) || error.response.status !== 429) return undefined
      const reset = parseRateLimit(error.response.headers)?.reset
      return reset && reset.getTime() - Date.now() > maxRetryAfter ? false : undefined
    },
  }
}

export interface Validation {
  request: boolean
  response: boolean
}

export function validationOf(setting: boolean | Partial<Validation> | undefined): Validation {
  if (typeof setting === 'boolean' || setting === undefined)
    return { request: setting ?? true, response: setting ?? true }
  return { request: setting.request ?? true, response: setting.response ?? true }
}

/** Params or JSON input checked against the endpoint's schema: the checked value, or a ValidationError. */
export function checked(endpoint: HttpEndpoint, part: 'params' | 'input', value: unknown): Record<string, unknown> {
  const schema =
    part === 'params' ? endpoint.params : endpoint.type === 'procedure' ? endpoint.input?.schema : undefined
  if (!schema) return value as Record<string, unknown>
  const result = validate(schema, value ?? (part === 'params' ? {} : undefined))
  if (!result.success) throw new ValidationError(endpoint.nsid, part, result.issues)
  return result.value as Record<string, unknown>
}

export interface RequestBody {
  body?: BodyInit
  contentType?: string
}

/** The body of a procedure: its JSON input (checked), or its bytes with their content type. */
export function requestBody(
  endpoint: HttpEndpoint,
  input: Record<string, unknown> | undefined,
  binary: BinaryInput | undefined,
  encodingOption: string | undefined,
): RequestBody {
  if (endpoint.type !== 'procedure' || !endpoint.input) return {}
  const { encoding } = endpoint.input
  if (encoding === JSON_ENCODING) return { body: JSON.stringify(input ?? {}), contentType: JSON_ENCODING }
  const contentType = encodingOption ?? (encoding.includes('*') ? undefined : encoding)
  if (binary === undefined)
    throw new ValidationError(endpoint.nsid, 'input', [{ path: '', message: 'is required (bytes, Blob or stream)' }])
  if (!contentType)
    throw new ValidationError(endpoint.nsid, 'input', [
      { path: '', message: `needs an encoding (accepts ${encoding})` },
    ])
  return { body: binary instanceof Uint8Array ? (binary as Uint8Array<ArrayBuffer>) : binary, contentType }
}

export function isBinary(value: unknown): value is BinaryInput {
  return (
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && value instanceof Blob) ||
    isStream(value) ||
    typeof value === 'string'
  )
}

export function isStream(body: unknown): body is ReadableStream {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream
}

/** Query params as repeated keys for arrays (`?uris=a&uris=b`), as XRPC servers expect. */
export function xrpcUrl(base: string, nsid: string, params: Record<string, unknown>): string {
  const url = new URL(`xrpc/${nsid}`, base.endsWith('/') ? base : `${base}/`)
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item))
  }
  return url.toString()
}

/** What a failed attempt becomes: the server's error as a typed class, a timeout, or a network error. */
export async function translateError(
  error: unknown,
  { HTTPError, KyTimeoutError }: KyModule,
  endpoint: HttpEndpoint,
  timeoutMs: number,
): Promise<unknown> {
  if (error instanceof HTTPError) return errorFromResponse(endpoint, error.response)
  if (error instanceof KyTimeoutError) return new TimeoutError(timeoutMs, endpoint.nsid)
  if (error instanceof Error && error.name === 'AbortError') return error // the caller's own signal
  if (error instanceof BlueskySDKError) return error // raised by the auth (a refused refresh, a login)
  const reason =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)
  return new NetworkError(`${endpoint.nsid} failed: ${reason}`, endpoint.nsid, { cause: error })
}

async function errorFromResponse(endpoint: HttpEndpoint, response: Response): Promise<XRPCError> {
  const body = await readErrorBody(response)
  const name = body.error ?? `HTTP${response.status}`
  const init = {
    status: response.status,
    error: name,
    message: body.message,
    headers: response.headers,
    nsid: endpoint.nsid,
  }
  if (response.status === 429) return new RateLimitError(init)
  const ErrorClass = endpoint.errors[name] ?? STANDARD_ERRORS[name] ?? XRPCError
  return new ErrorClass(init)
}

/** An XRPC error body is a name and a message: one larger than this is not one, and is not read further. */
const ERROR_BODY_LIMIT = 64 * 1024

/**
 * The `error` and `message` of an error answer, reading at most ERROR_BODY_LIMIT bytes of it (a
 * hostile server's endless error body is cut off, not buffered). Anything else — a proxy's HTML
 * page, a dropped connection, too big a body — gives neither, and the status says enough.
 */
export async function readErrorBody(response: Response): Promise<{ error?: string; message?: string }> {
  const reader = response.body?.getReader()
  if (!reader) return {}
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.byteLength
      if (size > ERROR_BODY_LIMIT) return {}
      chunks.push(read.value)
    }
  } catch {
    return {}
  } finally {
    reader.cancel().catch(() => {})
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { error?: unknown; message?: unknown } | null
    return {
      error: typeof body?.error === 'string' ? body.error : undefined,
      message: typeof body?.message === 'string' ? body.message : undefined,
    }
  } catch {
    return {}
  }
}

/** A 2xx answer as the endpoint's response class, its body checked against the output schema. */
export async function parseResponse(
  endpoint: HttpEndpoint,
  response: Response,
  validateResponse: boolean,
): Promise<unknown> {
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

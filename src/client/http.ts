import ky, { HTTPError, TimeoutError as KyTimeoutError, type Options as KyOptions } from 'ky'
import type { HttpEndpoint } from '../runtime/descriptors.js'
import { BlueskySDKError, parseRateLimit } from '../runtime/errors.js'
import { NetworkError, TimeoutError } from './errors.js'
import { errorFromResponse, type RetryOptions } from './transport.js'

/**
 * What a client does with ky: one attempt loop (timeout, retries) per call, and ky's failures turned
 * into our typed errors. The client imports this module with its first request, not at start-up:
 * ky probes the platform's `Request` when it is imported, which on Node initializes the whole fetch
 * implementation (~25 ms) that a program making no request yet should not wait for. The first
 * request would pay that initialization anyway.
 */

const RETRY_STATUS = [429, 502, 503, 504]

export interface AttemptOptions {
  method: 'get' | 'post'
  headers: Record<string, string>
  body: BodyInit | undefined
  signal: AbortSignal | undefined
  timeoutMs: number
  /** Queries and idempotent procedures are retried; other calls go out once. */
  retryable: boolean
  streamed: boolean
  fetch: (request: Request) => Promise<Response>
}

export interface Http {
  /** Sends a call; a failure is our typed error (the server's declared one, a timeout, a network error). */
  send(endpoint: HttpEndpoint, url: string, options: AttemptOptions): Promise<Response>
}

export function createHttp(retry: RetryOptions | false | undefined): Http {
  const instance = ky.create({ throwHttpErrors: true })
  const retryable = retryPolicy(retry)
  const once = { limit: 0 }
  return {
    async send(endpoint, url, options) {
      try {
        return await instance(url, {
          method: options.method,
          headers: options.headers,
          body: options.body,
          signal: options.signal,
          timeout: options.timeoutMs,
          retry: options.retryable ? retryable : once,
          fetch: options.fetch,
          ...(options.streamed ? { duplex: 'half' } : {}),
        } as KyOptions)
      } catch (error) {
        throw await translateError(error, endpoint, options.timeoutMs)
      }
    },
  }
}

function retryPolicy(retry: RetryOptions | false | undefined): KyOptions['retry'] {
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

/** What a failed attempt becomes: the server's error as a typed class, a timeout, or a network error. */
async function translateError(error: unknown, endpoint: HttpEndpoint, timeoutMs: number): Promise<unknown> {
  if (error instanceof HTTPError) return errorFromResponse(endpoint, error.response)
  if (error instanceof KyTimeoutError) return new TimeoutError(timeoutMs, endpoint.nsid)
  if (error instanceof Error && error.name === 'AbortError') return error // the caller's own signal
  if (error instanceof BlueskySDKError) return error // raised by the auth (a refused refresh, a login)
  const reason =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)
  return new NetworkError(`${endpoint.nsid} failed: ${reason}`, endpoint.nsid, { cause: error })
}

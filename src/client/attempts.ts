import { BlueskySDKError, retryAfterMs } from '../runtime/errors.js'
import { readBounded } from './body.js'
import { NetworkError, ResponseTooLargeError, TimeoutError } from './errors.js'
import type { OriginLimiter } from './limiter.js'

/**
 * One call's attempts, its retries and the waits between them, all inside the call's deadline.
 *
 * The SDK runs this loop itself (ky sends each attempt, with its own retries off) because every wait
 * must be one the client chose: a server's `retry-after` or `ratelimit-reset` is obeyed only up to
 * `maxRetryAfterMs` (beyond it the error is reported at once, not slept on), a value that cannot be
 * read is ignored, and no wait outlives the deadline. Each attempt's `timeoutMs` covers its body too,
 * so a server that sends headers and then trickles (or stalls) cannot hold a call open.
 */

export interface RetryOptions {
  /** Retries after the first attempt (default 2). */
  limit?: number
  /** Longest wait between attempts, in ms (default 10 s); waits are exponential with full jitter. */
  backoffLimitMs?: number
  /**
   * Longest wait a server may ask for (`retry-after`, `ratelimit-reset`), in ms (default 60 s): a 429
   * or 503 asking for more is reported at once (a `RateLimitError` says when to come back).
   */
  maxRetryAfterMs?: number
}

export interface RetrySettings {
  limit: number
  backoffLimitMs: number
  maxRetryAfterMs: number
}

export function retrySettings(retry: RetryOptions | false | undefined): RetrySettings {
  const options = retry === false ? { limit: 0 } : (retry ?? {})
  return {
    limit: options.limit ?? 2,
    backoffLimitMs: options.backoffLimitMs ?? 10_000,
    maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
  }
}

/** The default deadline: long enough for every attempt to use its whole timeout and every wait its longest. */
export function defaultDeadlineMs(timeoutMs: number, retry: RetrySettings, retries: number): number {
  return timeoutMs * (retries + 1) + retry.backoffLimitMs * retries
}

const RETRY_STATUS = new Set([429, 502, 503, 504])
/** Statuses whose `retry-after`/`ratelimit-reset` say when to come back. */
const WAIT_STATUS = new Set([429, 503])
const FIRST_BACKOFF_MS = 300

export interface Attempts {
  nsid: string
  /** The origin the call goes to, for the per-origin limit. */
  origin: string
  /** Sends one attempt, aborted by `signal` (its timeout, the deadline, or the caller). */
  send(signal: AbortSignal): Promise<Response>
  /** The typed error an error answer becomes (it reads the answer's body, bounded). */
  failure(response: Response): Promise<BlueskySDKError>
  /** 0 for calls that are not retried (procedures that are not idempotent, stream bodies). */
  retries: number
  retry: RetrySettings
  timeoutMs: number
  deadlineMs: number
  maxResponseBytes: number
  limiter: OriginLimiter
  /** The caller's own signal: its abort ends the call with the caller's reason, as fetch does. */
  signal?: AbortSignal
}

export interface Answer {
  response: Response
  /** The whole body, read within the attempt's timeout and the size limit. */
  bytes: Uint8Array
}

export async function sendAttempts(call: Attempts): Promise<Answer> {
  const deadline = new AbortController()
  const deadlineTimer = setTimeout(() => deadline.abort(), call.deadlineMs)
  const endsAt = Date.now() + call.deadlineMs
  const callSignal = call.signal ? AbortSignal.any([call.signal, deadline.signal]) : deadline.signal
  // What ended the call, when a signal did: the caller's reason, or a TimeoutError of ours.
  const stopped = (error: unknown, attempt?: AbortSignal): unknown => {
    if (call.signal?.aborted) return call.signal.reason ?? error
    if (deadline.signal.aborted) return new TimeoutError(call.deadlineMs, call.nsid, 'deadline')
    if (attempt?.aborted) return new TimeoutError(call.timeoutMs, call.nsid)
    return undefined
  }
  try {
    for (let attempt = 0; ; attempt++) {
      let failure: BlueskySDKError
      let serverWait: number | undefined
      const release = await call.limiter.acquire(call.origin, callSignal).catch((error: unknown) => {
        throw stopped(error) ?? error
      })
      const timeout = new AbortController()
      const attemptTimer = setTimeout(() => timeout.abort(), call.timeoutMs)
      const signal = AbortSignal.any([callSignal, timeout.signal])
      try {
        const response = await call.send(signal)
        if (response.ok) {
          const body = await readBounded(response, call.maxResponseBytes)
          if (body.tooLarge) throw new ResponseTooLargeError(call.nsid, response.status, call.maxResponseBytes)
          return { response, bytes: body.bytes }
        }
        failure = await call.failure(response)
        if (attempt >= call.retries || !RETRY_STATUS.has(response.status)) throw failure
        if (WAIT_STATUS.has(response.status)) serverWait = retryAfterMs(response.headers)
      } catch (error) {
        const ended = stopped(error, timeout.signal)
        if (ended !== undefined) throw ended
        if (error instanceof BlueskySDKError) throw error // an answer, the auth's own error, a refused redirect
        failure = networkError(error, call.nsid)
        if (attempt >= call.retries) throw failure
      } finally {
        clearTimeout(attemptTimer)
        release()
      }
      // A wait the server asks for beyond the limit, or one the deadline would cut short, is not waited.
      if (serverWait !== undefined && serverWait > call.retry.maxRetryAfterMs) throw failure
      const wait = serverWait ?? backoff(attempt, call.retry.backoffLimitMs)
      if (Date.now() + wait >= endsAt) throw failure
      await sleep(wait, callSignal).catch((error: unknown) => {
        throw stopped(error) ?? error
      })
    }
  } finally {
    clearTimeout(deadlineTimer)
  }
}

/** Exponential backoff with full jitter: a random wait up to 300 ms × 2^attempt, at most `limitMs`. */
function backoff(attempt: number, limitMs: number): number {
  return Math.random() * Math.min(limitMs, FIRST_BACKOFF_MS * 2 ** attempt)
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted()
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', abort)
      resolve()
    }, ms)
    const abort = () => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    signal.addEventListener('abort', abort, { once: true })
  })
}

/**
 * A failure to get an answer, as a NetworkError. The message of fetch's own failure is its cause's
 * (`connect ECONNREFUSED …`); an error about a header is not repeated at all, since the value it
 * quotes may be a token (a server can hand out a token that no header can hold).
 */
export function networkError(error: unknown, nsid: string): NetworkError {
  if (error instanceof TypeError && /header/i.test(error.message))
    return new NetworkError(`${nsid} failed: a header could not be sent (its value is not shown)`, nsid)
  const reason =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)
  return new NetworkError(`${nsid} failed: ${reason}`, nsid, { cause: error })
}

import type { ValidationIssue } from './schema/core.js'

/**
 * The errors generated code and every layer above build on. None carries a token, a password or a
 * request body: messages name the endpoint and what went wrong, and `toJSON` shows only that.
 */

/** The base of everything the SDK throws: `catch (e) { if (e instanceof BlueskySDKError) … }`. */
export class BlueskySDKError extends Error {
  override name = 'BlueskySDKError'

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message }
  }
}

export interface XRPCErrorInit {
  status: number
  /** The XRPC error name from the response body (`RecordNotFound`), or a generic one. */
  error: string
  message?: string
  headers?: Headers
  nsid?: string
}

/** An error response from the server: `status`, `error` (its name), `message`, `headers`. */
export class XRPCError extends BlueskySDKError {
  override name = 'XRPCError'
  readonly status: number
  readonly error: string
  readonly headers: Headers
  readonly nsid: string | undefined

  constructor(init: XRPCErrorInit) {
    super(init.message || `${init.error} (HTTP ${init.status})`)
    this.status = init.status
    this.error = init.error
    this.headers = init.headers ?? new Headers()
    this.nsid = init.nsid
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, status: this.status, error: this.error, message: this.message, nsid: this.nsid }
  }
}

// The error names every XRPC server may answer with, whatever the lexicon declares.
export class InvalidRequestError extends XRPCError {
  override name = 'InvalidRequestError'
}
export class AuthMissingError extends XRPCError {
  override name = 'AuthMissingError'
}
export class AuthenticationRequiredError extends XRPCError {
  override name = 'AuthenticationRequiredError'
}
export class InvalidTokenError extends XRPCError {
  override name = 'InvalidTokenError'
}
export class ExpiredTokenError extends XRPCError {
  override name = 'ExpiredTokenError'
}
export class ForbiddenError extends XRPCError {
  override name = 'ForbiddenError'
}
export class PayloadTooLargeError extends XRPCError {
  override name = 'PayloadTooLargeError'
}
export class MethodNotImplementedError extends XRPCError {
  override name = 'MethodNotImplementedError'
}
export class InternalServerError extends XRPCError {
  override name = 'InternalServerError'
}
export class UpstreamFailureError extends XRPCError {
  override name = 'UpstreamFailureError'
}
export class NotEnoughResourcesError extends XRPCError {
  override name = 'NotEnoughResourcesError'
}
export class UpstreamTimeoutError extends XRPCError {
  override name = 'UpstreamTimeoutError'
}

export interface RateLimit {
  limit?: number
  remaining?: number
  /** When the window resets. */
  reset?: Date
  policy?: string
}

/** HTTP 429. `reset` says when to try again (from `ratelimit-reset` or `retry-after`). */
export class RateLimitError extends XRPCError {
  override name = 'RateLimitError'
  readonly rateLimit: RateLimit

  constructor(init: XRPCErrorInit) {
    super(init)
    this.rateLimit = parseRateLimit(this.headers) ?? {}
    if (!this.rateLimit.reset) {
      const wait = retryAfterMs(this.headers)
      if (wait !== undefined) this.rateLimit.reset = dateOf(Date.now() + wait)
    }
  }

  get reset(): Date | undefined {
    return this.rateLimit.reset
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reset: this.reset?.toISOString() }
  }
}

/** The standard XRPC error classes by error name (what the transport maps an answer to). */
export const STANDARD_ERRORS: Readonly<Record<string, typeof XRPCError>> = {
  InvalidRequest: InvalidRequestError,
  AuthMissing: AuthMissingError,
  AuthenticationRequired: AuthenticationRequiredError,
  InvalidToken: InvalidTokenError,
  ExpiredToken: ExpiredTokenError,
  Forbidden: ForbiddenError,
  PayloadTooLarge: PayloadTooLargeError,
  MethodNotImplemented: MethodNotImplementedError,
  InternalServerError: InternalServerError,
  UpstreamFailure: UpstreamFailureError,
  NotEnoughResources: NotEnoughResourcesError,
  UpstreamTimeout: UpstreamTimeoutError,
  RateLimitExceeded: RateLimitError,
}

/** The `ratelimit-*` headers, if the response has them; values that are not numbers are left out. */
export function parseRateLimit(headers: Headers): RateLimit | undefined {
  const limit = headers.get('ratelimit-limit')
  const remaining = headers.get('ratelimit-remaining')
  const reset = headers.get('ratelimit-reset')
  const policy = headers.get('ratelimit-policy')
  if (limit === null && remaining === null && reset === null) return undefined
  const rateLimit: RateLimit = {}
  const limitValue = whole(limit)
  if (limitValue !== undefined) rateLimit.limit = limitValue
  const remainingValue = whole(remaining)
  if (remainingValue !== undefined) rateLimit.remaining = remainingValue
  const resetAt = resetTime(reset)
  if (resetAt !== undefined) rateLimit.reset = dateOf(resetAt)
  if (policy !== null) rateLimit.policy = policy
  return rateLimit
}

/**
 * How long the server asks a client to wait before trying again, in ms from now: `retry-after`
 * (seconds, or an HTTP date) or else `ratelimit-reset`. Undefined when neither says anything that
 * can be read: a value that cannot be parsed is ignored, never slept on.
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const retryAfter = headers.get('retry-after')?.trim()
  if (retryAfter) {
    const seconds = whole(retryAfter)
    if (seconds !== undefined) return seconds * 1000
    // Only the HTTP-date shape (`Wed, 21 Oct 2015 07:28:00 GMT`): Date.parse reads far more than dates.
    if (/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(retryAfter)) {
      const at = Date.parse(retryAfter)
      if (Number.isFinite(at)) return Math.max(0, at - now)
    }
  }
  const reset = resetTime(headers.get('ratelimit-reset'), now)
  return reset === undefined ? undefined : Math.max(0, reset - now)
}

/** A `ratelimit-reset` past this many seconds (~31 years, or 2001 as a Unix time) is a Unix time, not a delay. */
const UNIX_TIME_CUTOFF = 1e9

/** A header's non-negative whole number (digits only; so many that it is Infinity is still a number), or undefined. */
function whole(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value.trim())) return undefined
  return Number(value)
}

/** A time as a Date, or undefined past what a Date can hold (a reset 10^12 seconds away). */
function dateOf(ms: number): Date | undefined {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? undefined : date
}

/**
 * `ratelimit-reset` as a time: atproto servers send a Unix time in seconds, the IETF draft a number of
 * seconds from now; UNIX_TIME_CUTOFF tells them apart.
 */
function resetTime(value: string | null, now = Date.now()): number | undefined {
  const seconds = whole(value)
  if (seconds === undefined) return undefined
  return seconds > UNIX_TIME_CUTOFF ? seconds * 1000 : now + seconds * 1000
}

/**
 * Data that does not match its lexicon. Thrown before sending (`params`, `input`, or a `record`
 * written through createRecord/putRecord/applyWrites: nothing is sent), and when restoring a
 * response from JSON (`output`).
 */
export class ValidationError extends BlueskySDKError {
  override name = 'ValidationError'
  constructor(
    /** The endpoint (or record collection) the data is for. */
    readonly nsid: string,
    readonly part: 'params' | 'input' | 'output' | 'record',
    readonly issues: ValidationIssue[],
  ) {
    super(`Invalid ${part} for ${nsid}: ${describeIssues(issues)}`)
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, nsid: this.nsid, part: this.part, issues: this.issues }
  }
}

/** The first few issues as one line: `reply.root.uri: is required; text: …; and 3 more`. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  const shown = issues.slice(0, 5).map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
  return shown.join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '')
}

/** The SDK used in a way it cannot serve: an NSID no lexicon of the client defines, a call that needs a login. */
export class UsageError extends BlueskySDKError {
  override name = 'UsageError'
}

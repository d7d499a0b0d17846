import type { ValidationIssue } from '../schema/core.js'

/**
 * Every error a call can end in. None carries a token, a password or a request body: messages name
 * the endpoint and what went wrong, and `toJSON` shows only that.
 */

export interface XRPCErrorInit {
  status: number
  /** The XRPC error name from the response body (`RecordNotFound`), or a generic one. */
  error: string
  message?: string
  headers?: Headers
  nsid?: string
}

/** An error response from the server: `status`, `error` (its name), `message`, `headers`. */
export class XRPCError extends Error {
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

  toJSON(): Record<string, unknown> {
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
    const retryAfter = this.headers.get('retry-after')
    if (!this.rateLimit.reset && retryAfter) {
      const seconds = Number(retryAfter)
      const at = Number.isNaN(seconds) ? Date.parse(retryAfter) : Date.now() + seconds * 1000
      if (!Number.isNaN(at)) this.rateLimit.reset = new Date(at)
    }
  }

  get reset(): Date | undefined {
    return this.rateLimit.reset
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reset: this.reset?.toISOString() }
  }
}

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

/** The server could not be reached, or the connection broke, after the configured retries. */
export class NetworkError extends Error {
  override name = 'NetworkError'
  constructor(
    message: string,
    readonly nsid?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, nsid: this.nsid }
  }
}

/** No response within `timeoutMs`. */
export class TimeoutError extends Error {
  override name = 'TimeoutError'
  constructor(
    readonly timeoutMs: number,
    readonly nsid?: string,
  ) {
    super(`${nsid ?? 'request'} timed out after ${timeoutMs} ms`)
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, nsid: this.nsid, timeoutMs: this.timeoutMs }
  }
}

/** A call refused before anything was sent: its params or input do not match the lexicon. */
export class ValidationError extends Error {
  override name = 'ValidationError'
  constructor(
    readonly nsid: string,
    readonly part: 'params' | 'input',
    readonly issues: ValidationIssue[],
  ) {
    super(`Invalid ${part} for ${nsid}: ${describeIssues(issues)}`)
  }
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, nsid: this.nsid, part: this.part, issues: this.issues }
  }
}

/** The server answered, but not with what the lexicon promises (bad JSON, wrong shape, truncated body). */
export class ResponseValidationError extends Error {
  override name = 'ResponseValidationError'
  constructor(
    readonly nsid: string,
    readonly status: number,
    readonly contentType: string | null,
    readonly issues: ValidationIssue[],
    readonly headers: Headers = new Headers(),
  ) {
    super(
      `Invalid response from ${nsid} (HTTP ${status}, ${contentType ?? 'no content type'}): ${describeIssues(issues)}`,
    )
  }
  toJSON(): Record<string, unknown> {
    const { name, message, nsid, status, contentType, issues } = this
    return { name, message, nsid, status, contentType, issues }
  }
}

function describeIssues(issues: ValidationIssue[]): string {
  const shown = issues.slice(0, 5).map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
  return shown.join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '')
}

/** The `ratelimit-*` headers, if the response has them. */
export function parseRateLimit(headers: Headers): RateLimit | undefined {
  const limit = headers.get('ratelimit-limit')
  const remaining = headers.get('ratelimit-remaining')
  const reset = headers.get('ratelimit-reset')
  const policy = headers.get('ratelimit-policy')
  if (limit === null && remaining === null && reset === null) return undefined
  const rateLimit: RateLimit = {}
  if (limit !== null) rateLimit.limit = Number(limit)
  if (remaining !== null) rateLimit.remaining = Number(remaining)
  if (reset !== null) {
    // atproto servers send a Unix time in seconds; the IETF draft a number of seconds from now.
    const value = Number(reset)
    rateLimit.reset = new Date(value > 1e9 ? value * 1000 : Date.now() + value * 1000)
  }
  if (policy !== null) rateLimit.policy = policy
  return rateLimit
}

/** Logging in failed: the credentials were refused (or the session is dead and none are held). */
export class AuthenticationError extends Error {
  override name = 'AuthenticationError'
  /** The server's error, when it gave one (`AuthenticationRequired`, `AccountTakedown`, …). */
  readonly serverError: XRPCError | undefined

  constructor(message: string, serverError?: XRPCError) {
    super(
      serverError
        ? `${message}: ${serverError.error}${serverError.message ? ` (${serverError.message})` : ''}`
        : message,
      {
        cause: serverError,
      },
    )
    this.serverError = serverError
  }

  get status(): number | undefined {
    return this.serverError?.status
  }

  get error(): string | undefined {
    return this.serverError?.error
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, serverError: this.serverError?.toJSON() }
  }
}

import { BlueskySDKError, describeIssues } from '../runtime/errors.js'
import type { ValidationIssue } from '../runtime/schema/core.js'

/** Errors of the transport: the server unreachable or too slow, or an answer that breaks the lexicon. */

/** The server could not be reached, or the connection broke, after the configured retries. */
export class NetworkError extends BlueskySDKError {
  override name = 'NetworkError'
  constructor(
    message: string,
    readonly nsid?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, nsid: this.nsid }
  }
}

/**
 * The call took too long: one attempt (headers and body) past `timeoutMs`, or the whole call (its
 * attempts and the waits between them) past its `deadlineMs` (`scope: 'deadline'`).
 */
export class TimeoutError extends BlueskySDKError {
  override name = 'TimeoutError'
  constructor(
    readonly timeoutMs: number,
    readonly nsid?: string,
    readonly scope: 'attempt' | 'deadline' = 'attempt',
  ) {
    super(
      scope === 'attempt'
        ? `${nsid ?? 'request'} timed out after ${timeoutMs} ms`
        : `${nsid ?? 'request'} did not finish within its ${timeoutMs} ms deadline (retries included)`,
    )
  }
  override toJSON(): Record<string, unknown> {
    const { name, message, nsid, timeoutMs, scope } = this
    return { name, message, nsid, timeoutMs, scope }
  }
}

/** A response body larger than `maxResponseBytes`: cut off unread, rather than held in memory. */
export class ResponseTooLargeError extends BlueskySDKError {
  override name = 'ResponseTooLargeError'
  constructor(
    readonly nsid: string,
    readonly status: number,
    readonly limit: number,
  ) {
    super(`The response of ${nsid} (HTTP ${status}) is larger than its ${limit}-byte limit (maxResponseBytes)`)
  }
  override toJSON(): Record<string, unknown> {
    const { name, message, nsid, status, limit } = this
    return { name, message, nsid, status, limit }
  }
}

/** The server answered, but not with what the lexicon promises (bad JSON, wrong shape, truncated body). */
export class ResponseValidationError extends BlueskySDKError {
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
  override toJSON(): Record<string, unknown> {
    const { name, message, nsid, status, contentType, issues } = this
    return { name, message, nsid, status, contentType, issues }
  }
}

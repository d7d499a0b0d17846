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

/** No response within `timeoutMs`. */
export class TimeoutError extends BlueskySDKError {
  override name = 'TimeoutError'
  constructor(
    readonly timeoutMs: number,
    readonly nsid?: string,
  ) {
    super(`${nsid ?? 'request'} timed out after ${timeoutMs} ms`)
  }
  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, nsid: this.nsid, timeoutMs: this.timeoutMs }
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

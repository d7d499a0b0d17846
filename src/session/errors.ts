import { BlueskySDKError, type XRPCError } from '../runtime/errors.js'

/** Logging in failed: the credentials were refused (or the session is dead and none are held). */
export class AuthenticationError extends BlueskySDKError {
  override name = 'AuthenticationError'
  /** The server's error, when it gave one (`AuthenticationRequired`, `AccountTakedown`, …). */
  readonly serverError: XRPCError | undefined

  constructor(message: string, serverError?: XRPCError) {
    const reason = serverError && `${serverError.error}${serverError.message ? ` (${serverError.message})` : ''}`
    super(reason ? `${message}: ${reason}` : message, { cause: serverError })
    this.serverError = serverError
  }

  get status(): number | undefined {
    return this.serverError?.status
  }

  get error(): string | undefined {
    return this.serverError?.error
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, serverError: this.serverError?.toJSON() }
  }
}

export type SessionStoreOperation = 'get' | 'set' | 'delete' | 'lock'

/**
 * The session store failed (a full disk, a read-only directory, a store's own error). Reported to
 * `onSessionStoreError`, never thrown: the session goes on in memory, and a failed write is tried
 * again at the next change. `cause` is the store's error; the message gives only its code or name.
 */
export class SessionStoreError extends BlueskySDKError {
  override name = 'SessionStoreError'
  readonly operation: SessionStoreOperation

  constructor(operation: SessionStoreOperation, cause: unknown) {
    super(`The session store's ${operation}() failed (${reasonOf(cause)}); the session goes on in memory`, { cause })
    this.operation = operation
  }

  /** The store error's `code` (`ENOSPC`, `EACCES`, `EROFS`, …), when it has one. */
  get code(): string | undefined {
    const code = (this.cause as { code?: unknown } | undefined)?.code
    return typeof code === 'string' ? code : undefined
  }

  override toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, operation: this.operation, code: this.code }
  }
}

/** A store's error message may quote what it was given (a session): name only its code or class. */
function reasonOf(cause: unknown): string {
  const code = (cause as { code?: unknown } | undefined)?.code
  if (typeof code === 'string') return code
  return cause instanceof Error ? cause.name : typeof cause
}

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

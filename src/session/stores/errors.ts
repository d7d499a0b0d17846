import { BlueskySDKError } from '../../runtime/errors.js'

/** A store's lock was not free within its wait: another holder is still working (or hung). */
export class LockTimeoutError extends BlueskySDKError {
  override name = 'LockTimeoutError'
  constructor(readonly lock: string) {
    super(`The session store's lock ${JSON.stringify(lock)} was not free in time`)
  }
}

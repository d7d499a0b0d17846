import { type LexSchema, validate } from './schema/core.js'
import { parseRateLimit, type RateLimit, ValidationError } from './errors.js'

export interface ResponseInit {
  headers?: HeadersInit
  status?: number
}

/**
 * Output fields that get no getter: `toJSON` is what `JSON.stringify` calls, `constructor` is the
 * class; such a field is read through `$data`.
 */
const NO_GETTER = new Set(['toJSON', 'constructor'])

/** Response classes whose prototype has its field getters. */
const withGetters = new WeakSet<object>()

/**
 * A successful response, with a getter per output field under its lexicon name. The getters are
 * defined here, from the output schema, on a generated subclass's first response (the subclass
 * declares them for the compiler only): one small function for every endpoint instead of getter
 * code per field in every bundle. What the SDK adds is `$`-prefixed (`$data`, `$status`,
 * `$headers`, `$rateLimit`), a prefix lexicons reserve for the protocol, so no field can shadow it.
 * `JSON.stringify` gives the data.
 */
export class XRPCResponse<T> {
  /** The output schema, set by generated subclasses; `fromJSON` validates with it. */
  static readonly schema: LexSchema<unknown> | undefined = undefined
  /** The output, as the lexicon types it. */
  readonly $data: T
  readonly $headers: Headers
  /** The HTTP status (2xx). */
  readonly $status: number

  constructor(data: T, init: ResponseInit = {}) {
    this.$data = data
    this.$headers = new Headers(init.headers)
    this.$status = init.status ?? 200
    if (!withGetters.has(new.target)) defineGetters(new.target)
  }

  /** From `ratelimit-limit`, `-remaining`, `-reset` (a Date) and `-policy`, when the server sends them. */
  get $rateLimit(): RateLimit | undefined {
    return parseRateLimit(this.$headers)
  }

  toJSON(): T {
    return this.$data
  }

  /**
   * What `util.inspect` (and so `console.log`) shows: the data with every secret-named field
   * redacted. `toJSON` keeps them, since it is how a session is saved; a log line must not.
   */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    return `${this.constructor.name} ${inspect(redacted(this.$data), options)}`
  }

  /**
   * Restores a response from its JSON (`JSON.parse(JSON.stringify(response))`, or the string),
   * validating it: data that does not match the output schema is a `ValidationError` (part `output`).
   */
  static fromJSON<R>(
    this: { new (data: any): R; readonly schema: LexSchema<unknown> | undefined; name: string },
    json: unknown,
  ): R {
    const data = typeof json === 'string' ? JSON.parse(json) : json
    if (!this.schema) return new this(data)
    const result = validate(this.schema, data)
    if (!result.success) throw new ValidationError(this.name, 'output', result.issues)
    return new this(result.value)
  }
}

/** Fields that hold a credential in some output (sessions, app passwords, service-auth tokens). */
const SECRET_FIELDS = new Set(['accessJwt', 'refreshJwt', 'password', 'token'])

/** A copy of JSON-like data with the secret fields' values replaced, at any depth. */
function redacted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redacted)
  if (!isPlainObject(value)) return value // bytes, CIDs, … are shown as themselves
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, SECRET_FIELDS.has(key) ? '[redacted]' : redacted(field)]),
  )
}

function isPlainObject(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** A getter per property of the class's output schema (an object schema; other outputs have no fields). */
function defineGetters(responseClass: typeof XRPCResponse<unknown>): void {
  withGetters.add(responseClass)
  const entries = (responseClass.schema as { entries?: object } | undefined)?.entries
  for (const name of entries ? Object.keys(entries) : []) {
    if (NO_GETTER.has(name) || Object.hasOwn(responseClass.prototype, name)) continue
    Object.defineProperty(responseClass.prototype, name, {
      configurable: true,
      get(this: XRPCResponse<Record<string, unknown>>) {
        return this.$data[name]
      },
    })
  }
}

/** A response whose body is not JSON (`com.atproto.sync.getBlob`): the bytes and their content type. */
export class BinaryResponse extends XRPCResponse<Uint8Array> {
  /** The bytes (binary outputs have no fields to shadow this). */
  get data(): Uint8Array {
    return this.$data
  }

  get contentType(): string | null {
    return this.$headers.get('content-type')
  }
}

import { type LexSchema, validate } from '../schema/core.js'
import { parseRateLimit, type RateLimit, ValidationError } from './errors.js'

export interface ResponseInit {
  headers?: HeadersInit
  status?: number
}

/**
 * A successful response: its `data` (typed by the lexicon), `headers` and rate-limit info. Generated
 * subclasses add a getter per output field. `JSON.stringify` gives the data.
 */
export class XRPCResponse<T> {
  /** The output schema, set by generated subclasses; `fromJSON` validates with it. */
  static readonly schema: LexSchema<unknown> | undefined = undefined
  readonly headers: Headers
  readonly status: number

  constructor(
    readonly data: T,
    init: ResponseInit = {},
  ) {
    this.headers = new Headers(init.headers)
    this.status = init.status ?? 200
  }

  /** From `ratelimit-limit`, `-remaining`, `-reset` (a Date) and `-policy`, when the server sends them. */
  get rateLimit(): RateLimit | undefined {
    return parseRateLimit(this.headers)
  }

  toJSON(): T {
    return this.data
  }

  /** Restores a response from its JSON (`JSON.parse(JSON.stringify(response))`), validating it. */
  static fromJSON<R>(
    this: { new (data: any): R; readonly schema: LexSchema<unknown> | undefined; name: string },
    json: unknown,
  ): R {
    const data = typeof json === 'string' ? JSON.parse(json) : json
    if (this.schema) {
      const result = validate(this.schema, data)
      if (!result.success) throw new ValidationError(this.name, 'input', result.issues)
      return new this(result.value)
    }
    return new this(data)
  }
}

/** A response whose body is not JSON (`com.atproto.sync.getBlob`): the bytes and their content type. */
export class BinaryResponse extends XRPCResponse<Uint8Array> {
  get contentType(): string | null {
    return this.headers.get('content-type')
  }
}

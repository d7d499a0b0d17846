import type { BinaryInput, HttpEndpoint } from './endpoint.js'
import type { CallOptions } from './types.js'

/** Everything a call needs, gathered by the builder and read by the client when it sends. */
export interface CallState {
  nsid: string
  kind: 'query' | 'procedure'
  /** The descriptor, or its loader when the namespaced client has not imported it yet. */
  endpoint: HttpEndpoint | (() => Promise<HttpEndpoint>)
  params: Record<string, unknown>
  /** A JSON input (object), or undefined. */
  input: Record<string, unknown> | undefined
  binary: BinaryInput | undefined
  options: CallOptions & { encoding?: string }
}

export type Send = (state: CallState) => Promise<unknown>

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * The awaitable request builder. Wrapped in a Proxy so any field name is a setter
 * (`.actor('alice.test')`): a param for queries, an input field for procedures.
 */
class Builder {
  /** The Proxy wrapping this builder: what fluent methods return. */
  self!: Builder
  private pending: Promise<unknown> | undefined

  constructor(
    private readonly state: CallState,
    private readonly sendState: Send,
  ) {}

  send(): Promise<unknown> {
    // Each send works on a snapshot, so later setter calls cannot change a request in flight.
    const { state } = this
    return this.sendState({
      ...state,
      params: { ...state.params },
      input: state.input && { ...state.input },
      options: { ...state.options, headers: state.options.headers && { ...state.options.headers } },
    })
  }

  then<A = unknown, B = never>(
    onfulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    // Awaiting sends once, however often the builder is awaited, as a promise would.
    return (this.pending ??= this.send()).then(onfulfilled, onrejected)
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.then(undefined, onrejected)
  }

  finally(onfinally?: (() => void) | null): Promise<unknown> {
    return (this.pending ??= this.send()).finally(onfinally)
  }

  params(values: Record<string, unknown>): Builder {
    Object.assign(this.state.params, values)
    return this.self
  }

  input(values: Record<string, unknown>): Builder {
    this.state.input = { ...this.state.input, ...values }
    return this.self
  }

  headers(values: Record<string, string>): Builder {
    this.state.options.headers = { ...this.state.options.headers, ...values }
    return this.self
  }

  signal(signal: AbortSignal): Builder {
    this.state.options.signal = signal
    return this.self
  }

  options(values: CallOptions & { encoding?: string }): Builder {
    Object.assign(this.state.options, values)
    return this.self
  }

  set(field: string, value: unknown): Builder {
    if (this.state.kind === 'query') this.state.params[field] = value
    else this.state.input = { ...this.state.input, [field]: value }
    return this.self
  }

  // A builder may hold a password (createSession input): show only what it calls.
  toJSON(): Record<string, unknown> {
    return { nsid: this.state.nsid, kind: this.state.kind }
  }

  [INSPECT](): string {
    return `RequestBuilder(${this.state.kind} ${this.state.nsid})`
  }
}

const handler: ProxyHandler<Builder> = {
  get(target, property, receiver) {
    if (typeof property === 'symbol' || property in target) return Reflect.get(target, property, receiver)
    return (value: unknown) => target.set(property, value)
  },
}

export function createRequest(state: CallState, send: Send): unknown {
  const builder = new Builder(state, send)
  builder.self = new Proxy(builder, handler)
  return builder.self
}

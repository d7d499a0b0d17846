import type { CallOptions } from '../runtime/calls.js'
import type { BinaryInput, HttpEndpoint } from '../runtime/descriptors.js'
import { isBinary } from './transport.js'

/** Everything a call needs, gathered by the builder and read by the client when it sends. */
export interface CallState {
  nsid: string
  /** The descriptor, or its loader when the namespaced client has not imported it yet. */
  endpoint: HttpEndpoint | (() => Promise<HttpEndpoint>)
  /** The first argument: params of a query, input (an object or bytes) of a procedure. */
  first: unknown
  /**
   * The setters called since, in order. Which of them set params and which input depends on the
   * endpoint's kind, which a namespaced call knows only once its module is loaded: `fieldsOf`
   * applies them then.
   */
  edits: Edit[]
  options: CallOptions & { encoding?: string; params?: Record<string, unknown> }
}

/** `$params`, `$input`, or a field setter (`.actor(…)`, `$set`): a param of a query, an input field of a procedure. */
export type Edit = [target: 'params' | 'input' | 'field', values: Record<string, unknown>]

/** A call's params and input, once its kind is known. */
export function fieldsOf(
  kind: 'query' | 'procedure',
  state: CallState,
): { params: Record<string, unknown>; input: Record<string, unknown> | undefined; binary: BinaryInput | undefined } {
  const { first } = state
  const binary = kind === 'procedure' && isBinary(first) ? first : undefined
  const params = { ...(kind === 'query' ? (first as Record<string, unknown> | undefined) : state.options.params) }
  let input =
    kind === 'procedure' && !binary && first !== undefined ? { ...(first as Record<string, unknown>) } : undefined
  for (const [target, values] of state.edits) {
    if (target === 'params' || (target === 'field' && kind === 'query')) Object.assign(params, values)
    else input = { ...input, ...values }
  }
  return { params, input, binary }
}

export type Send = (state: CallState) => Promise<unknown>

/** Takes a builder over without sending it (as `paginate` does, which sends it page by page). */
export const TAKE_OVER: unique symbol = Symbol('blueskysdk.takeOver')

/** A builder's request as it was when taken over: sent with params added, the builder left as it is. */
export interface TakenRequest {
  endpoint(): Promise<HttpEndpoint>
  /** The params set so far (the first argument of a query, its setters). */
  params(): Promise<Record<string, unknown>>
  send(params: Record<string, unknown>): Promise<unknown>
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** What the builder itself answers to; every other name is a field setter. */
const MEMBERS = new Set([
  'send',
  'then',
  'catch',
  'finally',
  'toJSON',
  '$params',
  '$input',
  '$set',
  '$headers',
  '$signal',
  '$options',
])

/**
 * The awaitable request builder, wrapped in a Proxy so that any field name is a setter
 * (`.actor('alice.test')`): a param for queries, an input field for procedures. Its own members are
 * `send`, the promise methods and `$`-prefixed names, which no lexicon field can take.
 *
 * A builder nobody awaits or sends goes out on a microtask, after the setters chained in the same
 * tick, once: a fire-and-forget `createRecord` is written, and its failure is an unhandled rejection
 * rather than silence.
 */
class Builder {
  /** The Proxy wrapping this builder: what fluent methods return. */
  self!: Builder
  readonly #state: CallState
  readonly #send: Send
  #pending: Promise<unknown> | undefined
  #taken = false

  constructor(state: CallState, send: Send) {
    this.#state = state
    this.#send = send
    queueMicrotask(() => {
      if (!this.#taken) this.#pending = this.send()
    })
  }

  send(): Promise<unknown> {
    this.#taken = true
    // Each send works on a snapshot, so later setter calls cannot change a request in flight.
    return this.#send(snapshot(this.#state))
  }

  then<A = unknown, B = never>(
    onfulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    // Awaiting sends once, however often the builder is awaited, as a promise would.
    return this.#sent().then(onfulfilled, onrejected)
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<unknown> {
    return this.then(undefined, onrejected)
  }

  finally(onfinally?: (() => void) | null): Promise<unknown> {
    return this.#sent().finally(onfinally)
  }

  #sent(): Promise<unknown> {
    return (this.#pending ??= this.send())
  }

  [TAKE_OVER](): TakenRequest {
    this.#taken = true
    const state = snapshot(this.#state)
    const endpoint = async () => (typeof state.endpoint === 'function' ? state.endpoint() : state.endpoint)
    return {
      endpoint,
      params: async () => fieldsOf((await endpoint()).type, state).params,
      send: (params) => this.#send(snapshot(state, ['params', { ...params }])),
    }
  }

  // Values are copied when set, so that changing the object passed later changes no request.
  $params(values: Record<string, unknown>): Builder {
    this.#state.edits.push(['params', { ...values }])
    return this.self
  }

  $input(values: Record<string, unknown>): Builder {
    this.#state.edits.push(['input', { ...values }])
    return this.self
  }

  $headers(values: Record<string, string>): Builder {
    this.#state.options.headers = { ...this.#state.options.headers, ...values }
    return this.self
  }

  $signal(signal: AbortSignal): Builder {
    this.#state.options.signal = signal
    return this.self
  }

  $options(values: CallOptions & { encoding?: string }): Builder {
    Object.assign(this.#state.options, values)
    return this.self
  }

  $set(field: string, value: unknown): Builder {
    this.#state.edits.push(['field', { [field]: value }])
    return this.self
  }

  // A builder may hold a password (createSession input): show only what it calls.
  toJSON(): Record<string, unknown> {
    return { nsid: this.#state.nsid }
  }

  // `String(builder)` and template literals: `toString` is a field setter's name like any other.
  [Symbol.toPrimitive](): string {
    return `RequestBuilder(${this.#state.nsid})`
  }

  // An arrow: util.inspect reads it from the Proxy's target but calls it on the Proxy, which has no #state.
  readonly [INSPECT] = (): string => `RequestBuilder(${this.#state.nsid})`
}

const handler: ProxyHandler<Builder> = {
  get(target, property) {
    if (typeof property === 'symbol' || MEMBERS.has(property)) {
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
    return (value: unknown) => target.$set(property, value)
  },
}

/** A copy of `state` that sending cannot change, with `extra` edits after its own. */
function snapshot(state: CallState, ...extra: Edit[]): CallState {
  return {
    ...state,
    edits: [...state.edits, ...extra],
    options: { ...state.options, headers: state.options.headers && { ...state.options.headers } },
  }
}

export function createRequest(state: CallState, send: Send): unknown {
  const builder = new Builder(state, send)
  builder.self = new Proxy(builder, handler)
  return builder.self
}

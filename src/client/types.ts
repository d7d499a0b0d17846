import type { BinaryBody, BinaryInput, HttpEndpoint } from './endpoint.js'

/** Options of one call; each overrides the client's for that call. */
export interface CallOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Validate params/input before sending and the response after (default: the client's, on). */
  validate?: boolean | { request?: boolean; response?: boolean }
  timeoutMs?: number
  /** `atproto-proxy`: the service (`did#id`) the PDS should forward this call to; `null` for none. */
  proxy?: string | null
  /** `atproto-accept-labelers`: labeler DIDs whose labels to apply (`did:plc:…;redact` to redact). */
  labelers?: readonly string[]
  /** A procedure that is safe to repeat: retried like a query on 429/502/503/504 and network errors. */
  idempotent?: boolean
}

export interface ProcedureOptions<Params> extends CallOptions {
  params?: Params
  /** Content type of a binary body (`image/png`). */
  encoding?: string
}

/** A call in the making: awaitable (sends once), or sent explicitly with `send()` (sends each time). */
export interface RequestBuilder<R> extends PromiseLike<R> {
  send(): Promise<R>
  /** Merges params (queries, and procedures that take them). */
  params(values: Record<string, unknown>): this
  /** Merges fields into a JSON input. */
  input(values: Record<string, unknown>): this
  headers(values: Record<string, string>): this
  signal(signal: AbortSignal): this
  options(values: CallOptions & { encoding?: string }): this
  catch<T = never>(onrejected?: ((reason: unknown) => T | PromiseLike<T>) | null): Promise<R | T>
  finally(onfinally?: (() => void) | null): Promise<R>
}

type BuilderMethod = keyof RequestBuilder<unknown>

// A setter per field (`.actor('alice.test')`), except where a builder method has the name. Written out
// per builder: a recursive alias must reference itself inside the mapped type, not as an argument.
export type QueryBuilder<Params, R> = RequestBuilder<R> &
  (string extends keyof Params
    ? {}
    : { readonly [K in Exclude<keyof Params, BuilderMethod>]-?: (value: Params[K]) => QueryBuilder<Params, R> })
export type ProcedureBuilder<Input, R> = RequestBuilder<R> &
  (string extends keyof Input
    ? {}
    : { readonly [K in Exclude<keyof Input, BuilderMethod>]-?: (value: Input[K]) => ProcedureBuilder<Input, R> })

type TypesOf<E extends HttpEndpoint> = NonNullable<E['~types']>

/** The call signature of an endpoint in the namespaced API and `client.call`. */
export type Call<E extends HttpEndpoint> = E extends { readonly type: 'query' }
  ? // Params may be left out, to be set with the fluent setters (then await or `send()`).
    (params?: TypesOf<E>['params'], options?: CallOptions) => QueryBuilder<TypesOf<E>['params'], TypesOf<E>['response']>
  : ProcedureCall<TypesOf<E>['params'], (TypesOf<E> & { input: unknown })['input'], TypesOf<E>['response']>

type ProcedureCall<Params, Input, R> = [Input] extends [BinaryBody]
  ? (data: BinaryInput, options: ProcedureOptions<Params> & { encoding: string }) => RequestBuilder<R>
  : [Input] extends [undefined]
    ? (input?: undefined, options?: ProcedureOptions<Params>) => RequestBuilder<R>
    : // Input may be left out, to be set with the fluent setters (then await or `send()`).
      (input?: Input, options?: ProcedureOptions<Params>) => ProcedureBuilder<Input, R>

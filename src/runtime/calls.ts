import type { BinaryBody, BinaryInput, Endpoint, HttpEndpoint, SubscriptionEndpoint } from './descriptors.js'
import type { SubscribeOptions, Subscription, SubscriptionMessage } from './subscription.js'

/**
 * How an endpoint is called, as types: what generated `namespaces.ts` files declare and the client
 * implements. Types only; nothing here runs.
 */

/** Options of one call; each overrides the client's for that call. */
export interface CallOptions {
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Validate params/input before sending and the response after (default: the client's, on). */
  validate?: boolean | { request?: boolean; response?: boolean }
  /** This call's per-attempt timeout, in ms (default: the client's). */
  timeoutMs?: number
  /** This call's deadline, retries and their waits included, in ms (default: the client's). */
  deadlineMs?: number
  /** The largest answer body this call reads, in bytes (default: the client's). */
  maxResponseBytes?: number
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

/**
 * A call in the making. Awaiting it sends it once; `send()` sends it each time; and a call neither
 * awaited nor sent by the end of the current tick is sent then, once, so a fire-and-forget write is
 * never silently dropped. What the SDK adds is `send`, the promise methods and `$`-prefixed methods;
 * every other name is a setter for a lexicon field (`.actor('alice.test')`).
 */
export interface RequestBuilder<R> extends PromiseLike<R> {
  send(): Promise<R>
  catch<T = never>(onrejected?: ((reason: unknown) => T | PromiseLike<T>) | null): Promise<R | T>
  finally(onfinally?: (() => void) | null): Promise<R>
  /** Merges params (queries, and procedures that take them). */
  $params(values: Record<string, unknown>): this
  /** Merges fields into a JSON input. */
  $input(values: Record<string, unknown>): this
  /** Sets one field (a param for queries, an input field for procedures), whatever its name. */
  $set(field: string, value: unknown): this
  $headers(values: Record<string, string>): this
  $signal(signal: AbortSignal): this
  $options(values: CallOptions & { encoding?: string }): this
}

/** Field names that keep their builder meaning; set such a field with `$set(name, value)`. */
export type BuilderMember = 'send' | 'then' | 'catch' | 'finally' | 'toJSON'

// A setter per field, except where the builder itself has the name. Written out per builder: a
// recursive alias must reference itself inside the mapped type, not as an argument.
export type QueryBuilder<Params, R> = RequestBuilder<R> &
  (string extends keyof Params
    ? {}
    : { readonly [K in Exclude<keyof Params, BuilderMember>]-?: (value: Params[K]) => QueryBuilder<Params, R> })
export type ProcedureBuilder<Input, R> = RequestBuilder<R> &
  (string extends keyof Input
    ? {}
    : { readonly [K in Exclude<keyof Input, BuilderMember>]-?: (value: Input[K]) => ProcedureBuilder<Input, R> })

type TypesOf<E extends HttpEndpoint> = NonNullable<E['~types']>
type ParamsOf<E extends HttpEndpoint> = TypesOf<E>['params']
type InputOf<E extends HttpEndpoint> = (TypesOf<E> & { input: unknown })['input']
type ResponseOf<E extends HttpEndpoint> = TypesOf<E>['response']

type SubscriptionTypesOf<E extends SubscriptionEndpoint<string, any, any, any>> = NonNullable<E['~types']>

/** The call signature of an endpoint in the namespaced API and `client.call`. */
export type Call<E extends Endpoint> =
  E extends SubscriptionEndpoint<string, any, any, any>
    ? (
        params?: SubscriptionTypesOf<E>['params'],
        options?: SubscribeOptions,
      ) => Subscription<SubscriptionMessage<SubscriptionTypesOf<E>['message']>>
    : E extends HttpEndpoint
      ? HttpCall<E>
      : never

type HttpCall<E extends HttpEndpoint> = E extends { readonly type: 'query' }
  ? // Params may be left out, to be set with the fluent setters (then await or `send()`).
    (params?: ParamsOf<E>, options?: CallOptions) => QueryBuilder<ParamsOf<E>, ResponseOf<E>>
  : E['nsid'] extends keyof RecordWriteCalls<E>
    ? RecordWriteCalls<E>[E['nsid']]
    : ProcedureCall<ParamsOf<E>, InputOf<E>, ResponseOf<E>>

type ProcedureCall<Params, Input, R> = [Input] extends [BinaryBody]
  ? (data: BinaryInput, options: ProcedureOptions<Params> & { encoding: string }) => RequestBuilder<R>
  : [Input] extends [undefined]
    ? (input?: undefined, options?: ProcedureOptions<Params>) => RequestBuilder<R>
    : // Input may be left out, to be set with the fluent setters (then await or `send()`).
      (input?: Input, options?: ProcedureOptions<Params>) => ProcedureBuilder<Input, R>

// --- records ------------------------------------------------------------------------------------

/**
 * Every record type the program knows, by collection NSID. Each generated lexicon set adds its own
 * (its `client.ts` augments this interface), so `createRecord` types `record` by `collection`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface KnownRecords {}

/** Any object: the record of a collection no lexicon here defines (checked by the server alone). */
export type AnyRecord = { [key: string]: any }

/** The record type of collection `C`: its generated `Record` interface, or any object if unknown. */
export type RecordOf<C extends string> = string extends C
  ? AnyRecord
  : C extends keyof KnownRecords
    ? KnownRecords[C]
    : AnyRecord

type WithRecord<I, C extends string, K extends string> = Omit<I, 'collection' | K> & { collection: C } & {
  [P in K]: RecordOf<C>
}

/** One write of `applyWrites`: its `value` typed by its `collection`. */
type CheckedWrite<W, Members> = W extends { readonly $type: infer T; readonly collection: infer C extends string }
  ? Extract<Members, { $type: T }> extends infer M
    ? 'value' extends keyof M
      ? Omit<M, 'collection' | 'value'> & { collection: C; value: RecordOf<C> }
      : M
    : never
  : Members

type WritesOf<E extends HttpEndpoint> = InputOf<E> extends { writes: readonly (infer M)[] } ? M : never

/** createRecord, putRecord and applyWrites: the record (or value) follows its collection. */
interface RecordWriteCalls<E extends HttpEndpoint> {
  'com.atproto.repo.createRecord': <const C extends string>(
    input?: WithRecord<InputOf<E>, C, 'record'>,
    options?: ProcedureOptions<ParamsOf<E>>,
  ) => ProcedureBuilder<InputOf<E>, ResponseOf<E>>
  'com.atproto.repo.putRecord': <const C extends string>(
    input?: WithRecord<InputOf<E>, C, 'record'>,
    options?: ProcedureOptions<ParamsOf<E>>,
  ) => ProcedureBuilder<InputOf<E>, ResponseOf<E>>
  'com.atproto.repo.applyWrites': <
    const W extends readonly { readonly $type: string; readonly collection: string; readonly value?: object }[],
  >(
    input?: Omit<InputOf<E>, 'writes'> & { writes: W & { [I in keyof W]: CheckedWrite<W[I], WritesOf<E>> } },
    options?: ProcedureOptions<ParamsOf<E>>,
  ) => ProcedureBuilder<InputOf<E>, ResponseOf<E>>
}

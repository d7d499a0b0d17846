import type { ObjectSchema } from './schema/composites.js'
import type { LexSchema } from './schema/core.js'
import type { $Typed } from './schema/types.js'
import type { XRPCError } from './errors.js'

/**
 * Endpoint descriptors: what a generated module says about its query, procedure or subscription.
 * The client turns them into requests; they are plain data, so unused ones cost nothing in a bundle.
 */

/** A request or response body: its encoding, and its schema when the lexicon gives one. */
export interface Body<out T> {
  readonly encoding: string
  readonly schema: LexSchema<T> | undefined
}

/** The XRPC error classes a lexicon declares for an endpoint, by error name. */
export type ErrorClasses = {
  readonly [name: string]: new (init: ConstructorParameters<typeof XRPCError>[0]) => XRPCError
}

export type ResponseClass<R> = new (data: any, init?: { headers?: HeadersInit; status?: number }) => R

interface EndpointBase<out N extends string, out Params, out Errors extends ErrorClasses> {
  readonly nsid: N
  readonly params: ObjectSchema<Params> | undefined
  /** Generated `XRPCError` subclasses for the errors the lexicon declares. */
  readonly errors: Errors
}

export interface QueryEndpoint<
  out N extends string,
  out Params,
  out Output,
  out Response,
  out Errors extends ErrorClasses = {},
> extends EndpointBase<N, Params, Errors> {
  readonly type: 'query'
  readonly output: Body<Output> | undefined
  readonly response: ResponseClass<Response>
  /** Types only (never set): read by `Call` with indexed access, far cheaper for tsc than inference. */
  readonly '~types'?: { readonly params: Params; readonly response: Response }
}

export interface ProcedureEndpoint<
  out N extends string,
  out Params,
  out Input,
  out Output,
  out Response,
  out Errors extends ErrorClasses = {},
> extends EndpointBase<N, Params, Errors> {
  readonly type: 'procedure'
  readonly input: Body<Input> | undefined
  readonly output: Body<Output> | undefined
  readonly response: ResponseClass<Response>
  /** Types only (never set): read by `Call` with indexed access, far cheaper for tsc than inference. */
  readonly '~types'?: { readonly params: Params; readonly input: Input; readonly response: Response }
}

export interface SubscriptionEndpoint<
  out N extends string,
  out Params,
  out Message,
  out Errors extends ErrorClasses = {},
> extends EndpointBase<N, Params, Errors> {
  readonly type: 'subscription'
  readonly message: LexSchema<Message> | undefined
  /** Types only (never set): read by `Call` with indexed access. */
  readonly '~types'?: { readonly params: Params; readonly message: Message }
}

export type Endpoint =
  | QueryEndpoint<string, any, any, any, ErrorClasses>
  | ProcedureEndpoint<string, any, any, any, any, ErrorClasses>
  | SubscriptionEndpoint<string, any, any, ErrorClasses>

/** An endpoint callable over HTTP. */
export type HttpEndpoint =
  QueryEndpoint<string, any, any, any, ErrorClasses> | ProcedureEndpoint<string, any, any, any, any, ErrorClasses>

/** The errors a call to `E` may end in that its lexicon declares, as a union of generated classes. */
export type DeclaredError<E extends { errors: ErrorClasses }> = InstanceType<E['errors'][keyof E['errors']]>

/** A body whose encoding is not JSON (`*\/*`, `image/*`, `application/vnd.ipld.car`): raw bytes. */
export type BinaryBody = Uint8Array

/** What a binary-input procedure (`uploadBlob`) accepts. */
export type BinaryInput = Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | string

export type LexiconKind = 'query' | 'procedure' | 'subscription' | 'record'

/**
 * A generated lexicon set, as a client uses it: by namespace (an NSID without its name:
 * `app.bsky.actor`), a loader of that namespace's entries, and in those, by name, each endpoint's or
 * record's kind and a loader of its module. Both are imported only when first called or written,
 * so a bundle loads the namespaces and modules an app uses, not a map of every NSID of the set.
 * The descriptor or record schema is the module's export of that NSID. `N` is the set's namespace
 * tree (types only).
 */
export interface LexiconSet<out N = unknown> {
  readonly namespaces: { readonly [namespace: string]: () => Promise<LexiconNamespace> }
  /** The set's subscriptions by NSID: a call of one returns a stream at once, so the client must know it before loading anything. */
  readonly subscriptions?: readonly string[]
  /** Types only (never set): the namespaced API of the set. */
  readonly '~namespaces'?: N
}

/** What a namespace module of a set exports: by name (`getProfile`), the kind and the module loader. */
export interface LexiconNamespace {
  readonly entries: { readonly [name: string]: readonly [kind: LexiconKind, load: () => Promise<object>] }
}

/** A type guard on `$type` only (cheap, no validation): `isReplyRef(value)`. Main types also match `nsid#main`. */
/* @__NO_SIDE_EFFECTS__ */
export function typeGuard<T extends { $type?: string }>(typeId: string): (value: unknown) => value is $Typed<T> {
  const alias = typeId.includes('#') ? typeId : `${typeId}#main`
  return (value): value is $Typed<T> => {
    const $type = typeof value === 'object' && value !== null ? (value as { $type?: unknown }).$type : undefined
    return $type === typeId || $type === alias
  }
}

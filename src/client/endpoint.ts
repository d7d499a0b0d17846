import type { ObjectSchema } from '../schema/composites.js'
import type { LexSchema } from '../schema/core.js'
import type { $Typed } from '../schema/types.js'
import type { XRPCError } from './errors.js'
import type { XRPCResponse } from './response.js'

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

interface EndpointBase<out Params, out Errors extends ErrorClasses> {
  readonly nsid: string
  readonly params: ObjectSchema<Params> | undefined
  /** Generated `XRPCError` subclasses for the errors the lexicon declares. */
  readonly errors: Errors
}

export interface QueryEndpoint<
  out Params,
  out Output,
  out Response,
  out Errors extends ErrorClasses = {},
> extends EndpointBase<Params, Errors> {
  readonly type: 'query'
  readonly output: Body<Output> | undefined
  readonly response: ResponseClass<Response>
  /** Types only (never set): read by `Call` with indexed access, far cheaper for tsc than inference. */
  readonly '~types'?: { readonly params: Params; readonly response: Response }
}

export interface ProcedureEndpoint<
  out Params,
  out Input,
  out Output,
  out Response,
  out Errors extends ErrorClasses = {},
> extends EndpointBase<Params, Errors> {
  readonly type: 'procedure'
  readonly input: Body<Input> | undefined
  readonly output: Body<Output> | undefined
  readonly response: ResponseClass<Response>
  /** Types only (never set): read by `Call` with indexed access, far cheaper for tsc than inference. */
  readonly '~types'?: { readonly params: Params; readonly input: Input; readonly response: Response }
}

export interface SubscriptionEndpoint<
  out Params,
  out Message,
  out Errors extends ErrorClasses = {},
> extends EndpointBase<Params, Errors> {
  readonly type: 'subscription'
  readonly message: LexSchema<Message> | undefined
}

export type Endpoint =
  | QueryEndpoint<any, any, any, ErrorClasses>
  | ProcedureEndpoint<any, any, any, any, ErrorClasses>
  | SubscriptionEndpoint<any, any, ErrorClasses>

/** An endpoint callable over HTTP. */
export type HttpEndpoint =
  QueryEndpoint<any, any, any, ErrorClasses> | ProcedureEndpoint<any, any, any, any, ErrorClasses>

/** The errors a call to `E` may end in that its lexicon declares, as a union of generated classes. */
export type DeclaredError<E extends { errors: ErrorClasses }> = InstanceType<E['errors'][keyof E['errors']]>

/** A body whose encoding is not JSON (`*\/*`, `image/*`, `application/vnd.ipld.car`): raw bytes. */
export type BinaryBody = Uint8Array

/** What a binary-input procedure (`uploadBlob`) accepts. */
export type BinaryInput = Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | string

/**
 * The lazily loaded endpoints of a generated set, for the namespaced client: kind and module loader
 * by NSID. The loader gives the module; its descriptor is the export whose `nsid` matches (kept out of
 * the map, which every namespaced bundle carries whole).
 */
export type EndpointLoaders = Readonly<
  Record<string, readonly [kind: 'query' | 'procedure', load: () => Promise<object>]>
>

/** A type guard on `$type` only (cheap, no validation): `isReplyRef(value)`. Main types also match `nsid#main`. */
/* @__NO_SIDE_EFFECTS__ */
export function typeGuard<T extends { $type?: string }>(typeId: string): (value: unknown) => value is $Typed<T> {
  const alias = typeId.includes('#') ? typeId : `${typeId}#main`
  return (value): value is $Typed<T> => {
    const $type = typeof value === 'object' && value !== null ? (value as { $type?: unknown }).$type : undefined
    return $type === typeId || $type === alias
  }
}

import type { ObjectSchema } from './composites.js'
import type { LexSchema } from './core.js'
import type { $Typed } from './types.js'

/**
 * Endpoint descriptors: what a generated module says about its query, procedure or subscription.
 * The client turns them into requests; they are plain data so unused ones cost nothing in a bundle.
 */

/** A request or response body: its encoding, and its schema when the encoding is JSON. */
export interface Body<T> {
  readonly encoding: string
  readonly schema: LexSchema<T> | undefined
}

interface EndpointBase<Params, ErrorName extends string> {
  readonly nsid: string
  readonly params: ObjectSchema<Params> | undefined
  /** Error names the lexicon declares, each with a generated `XRPCError` subclass. */
  readonly errors: readonly ErrorName[]
}

export interface QueryEndpoint<Params, Output, ErrorName extends string = never> extends EndpointBase<
  Params,
  ErrorName
> {
  readonly type: 'query'
  readonly output: Body<Output> | undefined
}

export interface ProcedureEndpoint<Params, Input, Output, ErrorName extends string = never> extends EndpointBase<
  Params,
  ErrorName
> {
  readonly type: 'procedure'
  readonly input: Body<Input> | undefined
  readonly output: Body<Output> | undefined
}

export interface SubscriptionEndpoint<Params, Message, ErrorName extends string = never> extends EndpointBase<
  Params,
  ErrorName
> {
  readonly type: 'subscription'
  readonly message: LexSchema<Message> | undefined
}

export type Endpoint =
  QueryEndpoint<any, any, string> | ProcedureEndpoint<any, any, any, string> | SubscriptionEndpoint<any, any, string>

/** A body whose encoding is not JSON (`*\/*`, `image/*`, `application/vnd.ipld.car`): raw bytes. */
export type BinaryBody = Uint8Array

/** A type guard on `$type` only (cheap, no validation): `isReplyRef(value)`. Main types also match `nsid#main`. */
/* @__NO_SIDE_EFFECTS__ */
export function typeGuard<T extends { $type?: string }>(typeId: string): (value: unknown) => value is $Typed<T> {
  const alias = typeId.includes('#') ? typeId : `${typeId}#main`
  return (value): value is $Typed<T> => {
    const $type = typeof value === 'object' && value !== null ? (value as { $type?: unknown }).$type : undefined
    return $type === typeId || $type === alias
  }
}

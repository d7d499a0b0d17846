import { TAKE_OVER } from '../client/request-builder.js'
import type { RequestBuilder } from '../runtime/calls.js'
import { UsageError } from '../runtime/errors.js'
import type { XRPCResponse } from '../runtime/response.js'
import { ArraySchema, ObjectSchema } from '../runtime/schema/composites.js'

export interface PaginateOptions {
  /** Stop after this many items (default: all). */
  max?: number
  /** Items per request: the endpoint's `limit` param. */
  pageSize?: number
  /** The output field holding the items, when the output has more than one array. */
  items?: string
}

type ItemOf<R> =
  R extends XRPCResponse<infer Output>
    ? { [K in keyof Output]-?: NonNullable<Output[K]> extends readonly (infer Item)[] ? Item : never }[keyof Output]
    : never

/**
 * Iterates the items of any cursor-paginated call, page after page:
 * `for await (const item of paginate(client.app.bsky.feed.getAuthorFeed({ actor }), { max: 200 }))`.
 * The items are the output's array (found from the lexicon's output schema). It stops at the end
 * (no cursor), at `max`, or when a server repeats a cursor (which would otherwise loop forever).
 */
export function paginate<R extends XRPCResponse<any>>(
  request: RequestBuilder<R>,
  options: PaginateOptions = {},
): AsyncGenerator<ItemOf<R>, void, undefined> {
  // Taken over at once, so the builder does not send itself before the first page is asked for.
  ;(request as unknown as { [TAKE_OVER](): void })[TAKE_OVER]()
  return pages(request, options)
}

async function* pages<R extends XRPCResponse<any>>(
  request: RequestBuilder<R>,
  options: PaginateOptions,
): AsyncGenerator<ItemOf<R>, void, undefined> {
  const max = options.max ?? Number.POSITIVE_INFINITY
  if (options.pageSize !== undefined) request.$params({ limit: options.pageSize })
  const seen = new Set<string>()
  let yielded = 0
  let key = options.items
  while (yielded < max) {
    const page = await request.send()
    key ??= itemsKey(page)
    const items = (page.$data as Record<string, unknown>)[key]
    if (!Array.isArray(items)) throw new UsageError(`${key} in the response is not an array`)
    for (const item of items) {
      if (yielded >= max) return
      yielded++
      yield item as ItemOf<R>
    }
    const cursor = (page.$data as { cursor?: unknown }).cursor
    if (typeof cursor !== 'string' || cursor === '' || seen.has(cursor)) return
    seen.add(cursor)
    request.$params({ cursor })
  }
}

/** The output's array property, by the lexicon: the one array in the output schema. */
function itemsKey(response: XRPCResponse<unknown>): string {
  const schema = (response.constructor as typeof XRPCResponse).schema
  const arrays =
    schema instanceof ObjectSchema
      ? Object.keys(schema.entries).filter((key) => schema.entries[key] instanceof ArraySchema)
      : []
  if (arrays.length === 1) return arrays[0]
  throw new UsageError(
    arrays.length
      ? `The output has several arrays (${arrays.join(', ')}): say which with { items }`
      : 'The output has no array of items to paginate',
  )
}

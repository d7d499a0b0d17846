import { TAKE_OVER, type TakenRequest } from '../client/request-builder.js'
import type { RequestBuilder } from '../runtime/calls.js'
import { UsageError } from '../runtime/errors.js'
import type { XRPCResponse } from '../runtime/response.js'
import { ArraySchema, ObjectSchema } from '../runtime/schema/composites.js'
import { IntegerSchema } from '../runtime/schema/primitives.js'

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
 * The builder is taken over as it is, and left unchanged: each page is its request with a cursor
 * (and a limit) added.
 */
export function paginate<R extends XRPCResponse<any>>(
  request: RequestBuilder<R>,
  options: PaginateOptions = {},
): AsyncGenerator<ItemOf<R>, void, undefined> {
  // Taken over at once, so the builder does not send itself before the first page is asked for.
  const taken = (request as unknown as { [TAKE_OVER](): TakenRequest })[TAKE_OVER]()
  return pages(taken, options)
}

async function* pages<R extends XRPCResponse<any>>(
  request: TakenRequest,
  options: PaginateOptions,
): AsyncGenerator<ItemOf<R>, void, undefined> {
  const max = options.max ?? Number.POSITIVE_INFINITY
  if (max <= 0) return
  const pageSize = await pageSizeOf(request, options)
  const seen = new Set<string>()
  let yielded = 0
  let key = options.items
  let cursor: string | undefined
  while (yielded < max) {
    const params: Record<string, unknown> = cursor === undefined ? {} : { cursor }
    // Never ask for more than is still wanted: the last page is cut to what `max` leaves.
    if (pageSize !== undefined) params.limit = Math.min(pageSize, max - yielded)
    const page = (await request.send(params)) as XRPCResponse<unknown>
    key ??= itemsKey(page)
    const items = (page.$data as Record<string, unknown>)[key]
    if (!Array.isArray(items)) throw new UsageError(`${key} in the response is not an array`)
    for (const item of items) {
      if (yielded >= max) return
      yielded++
      yield item as ItemOf<R>
    }
    const next = (page.$data as { cursor?: unknown }).cursor
    if (typeof next !== 'string' || next === '' || seen.has(next)) return
    seen.add(next)
    cursor = next
  }
}

/**
 * The `limit` to send per page, or undefined to send none: `pageSize`, else the builder's own limit,
 * else the lexicon's default (what the server would use anyway), else its maximum; none when the
 * endpoint has no limit param, or when nothing is known and every item is wanted.
 */
async function pageSizeOf(request: TakenRequest, options: PaginateOptions): Promise<number | undefined> {
  const limit = (await request.endpoint()).params?.entries.limit
  if (!(limit instanceof IntegerSchema)) {
    if (options.pageSize !== undefined) throw new UsageError('This endpoint has no limit param to set a pageSize with')
    return undefined
  }
  const own = (await request.params()).limit
  const size = options.pageSize ?? (typeof own === 'number' ? own : (limit.default ?? limit.maximum))
  if (size !== undefined) return size
  return options.max === undefined ? undefined : Number.POSITIVE_INFINITY
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

import type { BinaryInput, HttpEndpoint } from '../runtime/descriptors.js'
import { RateLimitError, STANDARD_ERRORS, UsageError, ValidationError, XRPCError } from '../runtime/errors.js'
import { BinaryResponse } from '../runtime/response.js'
import { validate } from '../runtime/schema/core.js'
import type { Answer } from './attempts.js'
import { readErrorBody } from './body.js'
import { ResponseValidationError } from './errors.js'

/**
 * The HTTP side of a call: bodies, URLs, headers, and answers turned into responses or typed
 * errors. The attempts themselves (retries, their waits, the deadline) are attempts.ts's.
 */

export type { RetryOptions } from './attempts.js'
export { readErrorBody } from './body.js'

export const JSON_ENCODING = 'application/json'

export interface Validation {
  request: boolean
  response: boolean
}

export function validationOf(setting: boolean | Partial<Validation> | undefined): Validation {
  if (typeof setting === 'boolean' || setting === undefined)
    return { request: setting ?? true, response: setting ?? true }
  return { request: setting.request ?? true, response: setting.response ?? true }
}

/** Params or JSON input checked against the endpoint's schema: the checked value, or a ValidationError. */
export function checked(endpoint: HttpEndpoint, part: 'params' | 'input', value: unknown): Record<string, unknown> {
  const schema =
    part === 'params' ? endpoint.params : endpoint.type === 'procedure' ? endpoint.input?.schema : undefined
  if (!schema) return value as Record<string, unknown>
  const result = validate(schema, value ?? (part === 'params' ? {} : undefined))
  if (!result.success) throw new ValidationError(endpoint.nsid, part, result.issues)
  return result.value as Record<string, unknown>
}

export interface RequestBody {
  body?: BodyInit
  contentType?: string
}

/** The body of a procedure: its JSON input (checked), or its bytes with their content type. */
export function requestBody(
  endpoint: HttpEndpoint,
  input: Record<string, unknown> | undefined,
  binary: BinaryInput | undefined,
  encodingOption: string | undefined,
): RequestBody {
  if (endpoint.type !== 'procedure' || !endpoint.input) return {}
  const { encoding } = endpoint.input
  if (encoding === JSON_ENCODING) return { body: JSON.stringify(input ?? {}), contentType: JSON_ENCODING }
  const contentType = encodingOption ?? (encoding.includes('*') ? undefined : encoding)
  if (binary === undefined)
    throw new ValidationError(endpoint.nsid, 'input', [{ path: '', message: 'is required (bytes, Blob or stream)' }])
  if (!contentType)
    throw new ValidationError(endpoint.nsid, 'input', [
      { path: '', message: `needs an encoding (accepts ${encoding})` },
    ])
  return { body: binary instanceof Uint8Array ? (binary as Uint8Array<ArrayBuffer>) : binary, contentType }
}

export function isBinary(value: unknown): value is BinaryInput {
  return (
    value instanceof Uint8Array ||
    value instanceof ArrayBuffer ||
    (typeof Blob !== 'undefined' && value instanceof Blob) ||
    isStream(value) ||
    typeof value === 'string'
  )
}

export function isStream(body: unknown): body is ReadableStream {
  return typeof ReadableStream !== 'undefined' && body instanceof ReadableStream
}

/** Query params as repeated keys for arrays (`?uris=a&uris=b`), as XRPC servers expect. */
export function xrpcUrl(base: string, nsid: string, params: Record<string, unknown>): string {
  const url = new URL(`xrpc/${nsid}`, base.endsWith('/') ? base : `${base}/`)
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(key, String(item))
  }
  return url.toString()
}

/** An error answer as its typed class: the lexicon's declared error, a standard one, or XRPCError. */
export async function errorFromResponse(endpoint: HttpEndpoint, response: Response): Promise<XRPCError> {
  const body = await readErrorBody(response)
  const name = body.error ?? `HTTP${response.status}`
  const init = {
    status: response.status,
    error: name,
    message: body.message,
    headers: response.headers,
    nsid: endpoint.nsid,
  }
  if (response.status === 429) return new RateLimitError(init)
  // Own entries only: a server's error name may be `constructor` or `__proto__`.
  const ErrorClass =
    (Object.hasOwn(endpoint.errors, name) && endpoint.errors[name]) ||
    (Object.hasOwn(STANDARD_ERRORS, name) && STANDARD_ERRORS[name]) ||
    XRPCError
  return new ErrorClass(init)
}

/** Whether a content type is JSON's (`application/json`, `…+json`, any parameters and case). */
function isJsonType(contentType: string | null): boolean {
  const type = contentType?.split(';')[0].trim().toLowerCase()
  return type === undefined || type === '' || type === JSON_ENCODING || type.endsWith('+json')
}

/** A 2xx answer as the endpoint's response class, its body checked against the output schema. */
export function parseResponse(endpoint: HttpEndpoint, { response, bytes }: Answer, validateResponse: boolean): unknown {
  const init = { headers: response.headers, status: response.status }
  const contentType = response.headers.get('content-type')
  const invalid = (message: string, issues = [{ path: '', message }]) =>
    new ResponseValidationError(endpoint.nsid, response.status, contentType, issues, response.headers)
  if (!endpoint.output) return new endpoint.response(undefined, init)
  if (endpoint.output.encoding !== JSON_ENCODING) return new BinaryResponse(bytes, init)
  // JSON the server itself does not call JSON (an HTML page that happens to parse) is not taken as the output.
  if (!isJsonType(contentType)) throw invalid(`content type is not ${JSON_ENCODING}`)
  let data: unknown
  try {
    data = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw invalid('body is not valid JSON')
  }
  const { schema } = endpoint.output
  if (validateResponse && schema) {
    const result = validate(schema, data)
    if (!result.success) throw invalid('', result.issues)
    data = result.value
  }
  return new endpoint.response(data, init)
}

/** A service is an absolute http(s) URL: `bsky.social` alone would fail later, with a bare `Invalid URL`. */
export function checkServiceUrl(service: string | URL): void {
  let url: URL | undefined
  try {
    url = new URL(String(service))
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
    throw new UsageError(
      `service must be an absolute http(s) URL, such as https://bsky.social (got ${JSON.stringify(String(service).slice(0, 100))})`,
    )
  if (url.username || url.password) throw new UsageError('service must not carry credentials in its URL')
}

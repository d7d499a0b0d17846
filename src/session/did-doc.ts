import { isLoopbackHost } from '../client/redirects.js'

/**
 * The PDS a session's DID document names (`#atproto_pds`), if it is one we may follow. A DID
 * document is data from the network, so it is trusted only if it is the session's own (its `id` is
 * the session's DID and its `alsoKnownAs` claims the session's handle: a server cannot route one
 * account's tokens with another's document), and only to `https:`, or `http:` to this machine (an
 * `http:` URL elsewhere would send tokens in clear).
 */
export function pdsEndpoint(didDoc: unknown, session: { did: string; handle: string }): string | undefined {
  const doc = didDoc as { id?: unknown; alsoKnownAs?: unknown } | undefined
  if (doc?.id !== session.did || !claimsHandle(doc.alsoKnownAs, session.handle)) return undefined
  return pdsOf(doc)
}

/** The document's `#atproto_pds` endpoint, if `https:` (or `http:` to this machine); whose document it is, is the caller's to check. */
export function pdsOf(didDoc: unknown): string | undefined {
  const doc = didDoc as { service?: unknown } | undefined
  if (!Array.isArray(doc?.service)) return undefined
  for (const service of doc.service as { id?: unknown; type?: unknown; serviceEndpoint?: unknown }[]) {
    if (typeof service?.id !== 'string' || !service.id.endsWith('#atproto_pds')) continue
    if (service.type !== 'AtprotoPersonalDataServer' || typeof service.serviceEndpoint !== 'string') continue
    let url: URL
    try {
      url = new URL(service.serviceEndpoint)
    } catch {
      return undefined
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))) return url.toString()
    return undefined
  }
  return undefined
}

/** Handles are case-insensitive; `alsoKnownAs` holds them as `at://` URIs. */
function claimsHandle(alsoKnownAs: unknown, handle: string): boolean {
  const uri = `at://${handle.toLowerCase()}`
  return Array.isArray(alsoKnownAs) && alsoKnownAs.some((aka) => typeof aka === 'string' && aka.toLowerCase() === uri)
}

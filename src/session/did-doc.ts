/**
 * The PDS a session's DID document names (`#atproto_pds`), if it is one we may follow: `https:`, or
 * `http:` to this machine. A DID document is data from the network; an `http:` URL elsewhere would
 * send tokens in clear.
 */
export function pdsEndpoint(didDoc: unknown): string | undefined {
  const services = (didDoc as { service?: unknown } | undefined)?.service
  if (!Array.isArray(services)) return undefined
  for (const service of services as { id?: unknown; type?: unknown; serviceEndpoint?: unknown }[]) {
    if (typeof service?.id !== 'string' || !service.id.endsWith('#atproto_pds')) continue
    if (service.type !== 'AtprotoPersonalDataServer' || typeof service.serviceEndpoint !== 'string') continue
    let url: URL
    try {
      url = new URL(service.serviceEndpoint)
    } catch {
      return undefined
    }
    if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) return url.toString()
    return undefined
  }
  return undefined
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  )
}

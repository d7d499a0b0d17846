// Every request checks the same access token: decode it once.
let lastToken: string | undefined
let lastExpiry: number | undefined

/** The `exp` of a JWT, in ms since the epoch, read locally (no signature check: the server does that). */
export function jwtExpiry(token: string): number | undefined {
  if (token !== lastToken) {
    lastToken = token
    lastExpiry = decodeExpiry(token)
  }
  return lastExpiry
}

function decodeExpiry(token: string): number | undefined {
  const payload = token.split('.')[1]
  if (!payload) return undefined
  try {
    const json = JSON.parse(base64UrlDecode(payload)) as { exp?: unknown }
    return typeof json.exp === 'number' ? json.exp * 1000 : undefined
  } catch {
    return undefined
  }
}

/** Whether a token is still good for `marginMs` (clock skew between us and the server). */
export function isJwtValid(token: string | undefined, marginMs: number, now = Date.now()): boolean {
  if (!token) return false
  const expiry = jwtExpiry(token)
  return expiry !== undefined && expiry - marginMs > now
}

function base64UrlDecode(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='))
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
}

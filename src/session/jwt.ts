// Every request checks the same access token: decode it once.
let lastToken: string | undefined
let lastClaims: Claims = {}

interface Claims {
  /** `exp` and `iat`, in ms since the epoch. */
  exp?: number
  iat?: number
}

/** The `exp` and `iat` of a JWT, read locally (no signature check: the server does that); none for an opaque token. */
function claimsOf(token: string): Claims {
  if (token !== lastToken) {
    lastToken = token
    lastClaims = decodeClaims(token)
  }
  return lastClaims
}

function decodeClaims(token: string): Claims {
  const payload = token.split('.')[1]
  if (!payload) return {}
  try {
    const json = JSON.parse(base64UrlDecode(payload)) as { exp?: unknown; iat?: unknown }
    return {
      exp: typeof json.exp === 'number' ? json.exp * 1000 : undefined,
      iat: typeof json.iat === 'number' ? json.iat * 1000 : undefined,
    }
  } catch {
    return {}
  }
}

/**
 * Whether a token is still good `marginMs` before its `exp`, at `now` (the server's time, as near
 * as we know it): `unknown` when it has no readable `exp` (an opaque token, a JWT without one),
 * which is used until the server refuses it.
 */
export function tokenState(token: string, marginMs: number, now: number): 'valid' | 'expired' | 'unknown' {
  const { exp } = claimsOf(token)
  if (exp === undefined) return 'unknown'
  return exp - marginMs > now ? 'valid' : 'expired'
}

/** When the server issued the token (`iat`), in ms since the epoch, if it says. */
export function issuedAt(token: string): number | undefined {
  return claimsOf(token).iat
}

function base64UrlDecode(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='))
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
}

/** When the token expires (`exp`), in ms since the epoch, if it says (read without the per-request cache). */
export function expiresAt(token: string): number | undefined {
  return decodeClaims(token).exp
}

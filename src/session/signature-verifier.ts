import {
  type FoundPublicKey,
  getPublicKeyFromDidController,
  P256PublicKey,
  type PublicKey,
  Secp256k1PublicKey,
} from '@atcute/crypto'
import type { SignatureChecker } from '../runtime/subscription.js'
import { IdentityResolver, verificationMethodOf } from './identity.js'

export interface SignatureVerifierOptions {
  /** Where DID documents come from (default: a resolver of its own on `plcUrl`, caching for an hour). */
  resolver?: IdentityResolver
  /** The PLC directory, when no `resolver` is given (default `https://plc.directory`). */
  plcUrl?: string
}

/** Imported keys kept, by their type and multibase form; past this many the map starts over (a relay sees millions of repos). */
const KEY_CACHE_LIMIT = 50_000

/** How often a DID's document may be fetched again after a key fails (a rotation is rare; a forger may be fast). */
const FRESH_INTERVAL_MS = 60_000

/**
 * What `verify` of a subscription takes: signatures checked by a key of the signer's DID document
 * (`#atproto` for repos, `#atproto_label` for labelers; `did:plc` and `did:web`, through an
 * IdentityResolver and its cache), secp256k1 or P-256, low-S only, with `@atcute/crypto` (an
 * optional peer dependency: install it to verify). `subscribeRepos({}, { verify: signatureVerifier() })`.
 */
export function signatureVerifier(options: SignatureVerifierOptions = {}): SignatureChecker {
  const resolver = options.resolver ?? new IdentityResolver({ plcUrl: options.plcUrl })
  // Imported once each: importing (on Node, a KeyObject from DER) cost as much as the verification itself.
  const keys = new Map<string, PublicKey>()
  // When each DID's document was last asked for afresh: a stream of bad signatures must not turn
  // into a request to the directory per message.
  const refreshed = new Map<string, number>()
  const mayRefresh = (did: string) => {
    const now = Date.now()
    if (now - (refreshed.get(did) ?? -Infinity) < FRESH_INTERVAL_MS) return false
    if (refreshed.size >= KEY_CACHE_LIMIT) refreshed.clear()
    refreshed.set(did, now)
    return true
  }
  return {
    async check(did, keyId, data, sig, fresh) {
      if (fresh && !mayRefresh(did)) return false
      const method = verificationMethodOf(await resolver.resolveDid(did, { fresh }), keyId)
      if (method === undefined) return false
      const id = `${method.type} ${method.publicKeyMultibase}`
      let key = keys.get(id)
      if (!key) {
        try {
          key = await importKey(compressed(getPublicKeyFromDidController(method)))
        } catch {
          return false // a key of a kind atproto doesn't sign with
        }
        if (keys.size >= KEY_CACHE_LIMIT) keys.clear()
        keys.set(id, key)
      }
      // Low-S signatures only (the verifier's default, as atproto requires).
      return key.verify(sig as Uint8Array<ArrayBuffer>, data as Uint8Array<ArrayBuffer>)
    },
  }
}

function importKey(key: FoundPublicKey): Promise<PublicKey> {
  return key.type === 'p256'
    ? P256PublicKey.importRaw(key.publicKeyBytes)
    : Secp256k1PublicKey.importRaw(key.publicKeyBytes)
}

/**
 * The key with its point compressed (33 bytes), as the verifier takes it: older documents (the
 * `EcdsaSecp256k1VerificationKey2019` form) hold it uncompressed (65 bytes, 0x04, x, y).
 */
function compressed(key: FoundPublicKey): FoundPublicKey {
  const bytes = key.publicKeyBytes
  if (bytes.length !== 65 || bytes[0] !== 0x04) return key
  const point = new Uint8Array(33)
  point[0] = 0x02 | (bytes[64] & 1)
  point.set(bytes.subarray(1, 33), 1)
  return { ...key, publicKeyBytes: point } as FoundPublicKey
}

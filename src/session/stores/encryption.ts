import { UsageError } from '../../runtime/errors.js'

/**
 * Values sealed with AES-256-GCM (WebCrypto: Node and browsers alike) under a key the app provides,
 * so that tokens at rest in a shared Redis or database are useless without it. Each value has its
 * own random 96-bit IV; the GCM tag makes a tampered value fail to open rather than decode wrong.
 */

const PREFIX = 'aesgcm1:'

export type EncryptionKey = Uint8Array | string

export class Sealer {
  readonly #key: Promise<CryptoKey>

  /** `key`: 32 bytes, or their base64 (e.g. `openssl rand -base64 32`). */
  constructor(key: EncryptionKey) {
    const bytes = typeof key === 'string' ? fromBase64(key) : key
    if (bytes.length !== 32) throw new UsageError('The store encryption key must be 32 bytes (or their base64)')
    this.#key = crypto.subtle.importKey('raw', bytes as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ])
  }

  async seal(text: string): Promise<string> {
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await this.#key, new TextEncoder().encode(text))
    return `${PREFIX}${toBase64(iv)}:${toBase64(new Uint8Array(sealed))}`
  }

  /** The text, or undefined for a value that is not sealed with this key (another key, tampered, plain). */
  async open(value: string): Promise<string | undefined> {
    if (!value.startsWith(PREFIX)) return undefined
    const [iv, data] = value.slice(PREFIX.length).split(':')
    try {
      const opened = await crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: fromBase64(iv) as Uint8Array<ArrayBuffer> },
        await this.#key,
        fromBase64(data ?? '') as Uint8Array<ArrayBuffer>,
      )
      return new TextDecoder().decode(opened)
    } catch {
      return undefined
    }
  }
}

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function fromBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
  } catch {
    return new Uint8Array(0)
  }
}

import { isIP } from 'node:net'
import { isNsid } from './names.js'

/**
 * Where a lexicon is published (atproto.com/specs/lexicon, "Lexicon Publication and Resolution"):
 * an NSID's authority (all segments but the name), reversed into a domain, names in a DNS TXT record
 * `_lexicon.<domain>` (`did=<DID>`) the account whose repo holds the lexicon as a
 * `com.atproto.lexicon.schema` record keyed by the NSID. Resolution is not hierarchical: each
 * authority needs its own record.
 */

export const SCHEMA_COLLECTION = 'com.atproto.lexicon.schema'

/** `com.example.feed.post` → `com.example.feed` */
export function authorityOf(nsid: string): string {
  return nsid.slice(0, nsid.lastIndexOf('.'))
}

/** `com.example.feed` → `_lexicon.feed.example.com` (domains are case-insensitive). */
export function lexiconTxtName(authority: string): string {
  return `_lexicon.${authority.split('.').reverse().join('.').toLowerCase()}`
}

/** Whether `value` is an authority one may list (`com.example` in `com.example.*`): what an NSID is, less its name. */
export function isAuthority(value: string): boolean {
  return isNsid(`${value}.x`)
}

// The DID syntax (atproto.com/specs/did): also what keeps a TXT record's bytes out of messages and paths.
const DID = /^did:[a-z]+:[A-Za-z0-9._:%-]{1,2000}$/

/** The DIDs a `_lexicon` TXT answer names (`did=…`; a record's strings are one value, joined). */
export function didsOfTxt(records: string[][]): string[] {
  const values = records.map((chunks) => chunks.join('')).filter((value) => value.startsWith('did='))
  return [...new Set(values.map((value) => value.slice('did='.length)).filter((did) => DID.test(did)))]
}

/**
 * Text from the network, fit for a terminal: no control characters (an escape sequence in a server's
 * error message must not reach it) and a bounded length.
 */
export function printable(text: string, limit = 300): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
  return clean.length > limit ? `${clean.slice(0, limit)}…` : clean
}

/** A DNS server option (`127.0.0.1:5353`, `[::1]:53`, `10.0.0.1`, `::1`): what Node's resolver takes. */
export function isDnsServer(value: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(value)
  const withPort = /^([\d.]+):(\d{1,5})$/.exec(value)
  const [host, port] = bracketed ? [bracketed[1], bracketed[2]] : withPort ? [withPort[1], withPort[2]] : [value]
  return isIP(host) !== 0 && (port === undefined || (Number(port) > 0 && Number(port) < 65_536))
}

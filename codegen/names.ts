/** How lexicon names become TypeScript names. */

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if import in instanceof new null return super switch this throw true try typeof var void while with ' +
    'yield let static implements interface package private protected public await arguments eval'
  ).split(' '),
)

/** `replyRef` → `ReplyRef`; `some_name-x` → `SomeNameX`. */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('')
}

export function camelCase(name: string): string {
  const pascal = pascalCase(name)
  return pascal[0].toLowerCase() + pascal.slice(1)
}

/** The alias a module is imported under: `app.bsky.feed.post` → `AppBskyFeedPost`. */
export function moduleAlias(nsid: string): string {
  return nsid.split('.').map(pascalCase).join('')
}

/** A name usable as a `const`: reserved words get a trailing underscore. */
export function safeIdentifier(name: string): string {
  const id = /^[0-9]/.test(name) ? `_${name}` : name
  return RESERVED.has(id) ? `${id}_` : id
}

/** The file of a document within the output: `app.bsky.feed.post` → `app/bsky/feed/post.ts`. */
export function modulePath(nsid: string): string {
  return `${nsid.split('.').join('/')}.ts`
}

/** Hands out unique names within one module, first come first served. */
export class NameTable {
  private readonly used = new Set<string>()

  reserve(name: string): void {
    this.used.add(name)
  }

  /** `base`, or `base` + `Def`, `Def2`, … if taken; also keeps the derived `xSchema`/`isX` names free. */
  claim(base: string): string {
    for (let n = 1; ; n++) {
      const name = n === 1 ? base : `${base}Def${n === 2 ? '' : n - 1}`
      const derived = [name, schemaName(name), guardName(name)]
      if (derived.every((d) => !this.used.has(d))) {
        derived.forEach((d) => this.used.add(d))
        return name
      }
    }
  }
}

export function schemaName(typeName: string): string {
  return `${typeName[0].toLowerCase()}${typeName.slice(1)}Schema`
}

export function guardName(typeName: string): string {
  return `is${typeName}`
}

/**
 * The NSID syntax of the spec (https://atproto.com/specs/nsid): a reversed domain authority (at
 * least two segments of letters, digits and inner hyphens, the first not starting with a digit) and
 * a name of letters and digits not starting with one; 317 characters at most. The generator's own
 * check, so that it needs nothing of the runtime package.
 */
export function isNsid(value: string): boolean {
  if (value.length > 317) return false
  const segments = value.split('.')
  if (segments.length < 3) return false
  const name = segments.pop()!
  if (!/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(name)) return false
  if (!/^[A-Za-z]/.test(segments[0])) return false
  return segments.every((segment) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(segment))
}

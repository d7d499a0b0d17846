import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rename, rmdir, unlink, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** `com.example.feed.post` → `<out>/com/example/feed/post.json` */
export function documentFile(out: string, nsid: string): string {
  return path.join(out, ...nsid.split('.')) + '.json'
}

// Keys a reader looks for first; the rest alphabetically. A fixed order, not the server's: the same
// document is the same bytes whichever PDS (or JSON library) served it.
const FIRST = ['lexicon', 'id', 'revision', 'type', 'description']

function ordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(ordered)
  if (typeof value !== 'object' || value === null) return value
  const keys = Object.keys(value).sort((a, b) => {
    const [i, j] = [FIRST.indexOf(a), FIRST.indexOf(b)]
    if (i !== -1 || j !== -1) return (i === -1 ? FIRST.length : i) - (j === -1 ? FIRST.length : j)
    return a < b ? -1 : a > b ? 1 : 0
  })
  const copy: Record<string, unknown> = {}
  // defineProperty: a key named `__proto__` stays an own key.
  for (const key of keys)
    Object.defineProperty(copy, key, {
      value: ordered((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    })
  return copy
}

/** A document's file: pretty JSON in a fixed key order, with a final newline. */
export function documentText(doc: unknown): string {
  return `${JSON.stringify(ordered(doc), null, 2)}\n`
}

/** Writes a file through a temporary sibling and a rename: a reader never sees half of it. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(temp, text)
    await rename(temp, file)
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw error
  }
}

/** Removes a document's file, and the folders it leaves empty up to (not including) `out`. */
export async function removeDocumentFile(out: string, nsid: string): Promise<void> {
  const file = documentFile(out, nsid)
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
  const root = path.resolve(out)
  for (let dir = path.dirname(path.resolve(file)); dir.startsWith(root + path.sep); dir = path.dirname(dir)) {
    if ((await readdir(dir).catch(() => ['?'])).length > 0) break
    await rmdir(dir)
  }
}

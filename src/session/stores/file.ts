import { createHash, randomUUID } from 'node:crypto'
import { link, mkdir, open, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { KeyValueBackend, LockOptions } from './backend.js'
import { LOCK_LEASE_MS, LOCK_WAIT_MS } from './backend.js'
import { LockTimeoutError } from './errors.js'
import { pause, randomToken } from './util.js'

/**
 * Keys and values in one JSON file, readable only by its owner (0600, in a directory made 0700),
 * for processes of one machine. Every write re-reads the file under a write lock and replaces it by
 * rename, so a crash leaves the old file or the new one and no writer loses another's entry. Locks
 * are lock files created with O_EXCL (`wx`) beside it, holding a random token; a holder touches its
 * file while it works, and a lock file untouched for the lease is a crashed holder's and is taken over.
 *
 * Node only: reached through `blueskysdk/node`, never from the main entry.
 */

interface Entry {
  value: string
  expiresAt?: number
}

interface FileContents {
  blueskysdk: 1
  entries: Record<string, Entry>
}

export interface FileBackendOptions {
  /** A lock's lease (default 30 s): how long a crashed holder blocks the others. */
  lockLeaseMs?: number
  /** Reads a file in an older format as entries (a one-session file of an earlier release). */
  migrate?: (contents: unknown) => Record<string, Entry> | undefined
}

export class FileBackend implements KeyValueBackend {
  readonly #leaseMs: number
  readonly #migrate: FileBackendOptions['migrate']

  constructor(
    readonly path: string,
    options: FileBackendOptions = {},
  ) {
    this.#leaseMs = options.lockLeaseMs ?? LOCK_LEASE_MS
    this.#migrate = options.migrate
  }

  async get(key: string): Promise<string | undefined> {
    const entries = await this.#read()
    const entry = Object.hasOwn(entries, key) ? entries[key] : undefined
    return entry && (entry.expiresAt === undefined || entry.expiresAt > Date.now()) ? entry.value : undefined
  }

  async set(key: string, value: string, ttlMs?: number): Promise<void> {
    await this.setMany([[key, value]], ttlMs)
  }

  async setMany(entries: readonly (readonly [key: string, value: string])[], ttlMs?: number): Promise<void> {
    await this.#update((stored) => {
      for (const [key, value] of entries)
        stored[key] = ttlMs === undefined ? { value } : { value, expiresAt: Date.now() + ttlMs }
    })
  }

  /** Forgets `key`; and removes what writers of this file that died mid-write left (their temporary files hold tokens). */
  async delete(key: string): Promise<void> {
    await this.#update((entries) => {
      delete entries[key]
    })
    await removeDeadWritersFiles(this.path)
  }

  lock<T>(name: string, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
    const digest = createHash('sha256').update(name).digest('hex').slice(0, 24)
    return withLockFile(`${this.path}.${digest}.lock`, this.#leaseMs, options.waitMs ?? LOCK_WAIT_MS, name, fn)
  }

  toJSON(): Record<string, unknown> {
    return { type: 'FileBackend', path: this.path }
  }

  async #read(): Promise<Record<string, Entry>> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw error
    }
    let contents: unknown
    try {
      contents = JSON.parse(text)
    } catch {
      return {} // damaged by hand: ignored, and replaced on the next write
    }
    if ((contents as FileContents | null)?.blueskysdk === 1) return { ...(contents as FileContents).entries }
    return this.#migrate?.(contents) ?? {}
  }

  /** Read, change and replace the file under its write lock (a short one: no network inside). */
  async #update(change: (entries: Record<string, Entry>) => void): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
    await withLockFile(`${this.path}.lock`, this.#leaseMs, LOCK_WAIT_MS, this.path, async () => {
      const entries = Object.create(null) as Record<string, Entry>
      const now = Date.now()
      for (const [key, entry] of Object.entries(await this.#read()))
        if (entry.expiresAt === undefined || entry.expiresAt > now) entries[key] = entry
      change(entries)
      if (Object.keys(entries).length)
        await replaceFile(this.path, JSON.stringify({ blueskysdk: 1, entries } satisfies FileContents))
      else await rm(this.path, { force: true }) // nothing left: no file (a logout leaves no trace)
    })
  }
}

/** The temporary files of this process's writes in progress: the only ones of its pid that are not litter. */
const writing = new Set<string>()

/** Writes `text` to a new 0600 file beside `path` and renames it over `path`; the temporary file never outlives a failure. */
async function replaceFile(path: string, text: string): Promise<void> {
  // Unique per write: two writes in the same millisecond (two stores on one file) must not share one.
  const temporary = `${path}.${process.pid}.${randomUUID()}.tmp`
  writing.add(temporary)
  try {
    const file = await open(temporary, 'wx', 0o600)
    try {
      await file.writeFile(text)
      await file.sync() // on disk before the rename makes it the file
    } finally {
      await file.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => {}) // tokens must not outlive a failed write
    throw error
  } finally {
    writing.delete(temporary)
  }
}

async function removeDeadWritersFiles(path: string): Promise<void> {
  const directory = dirname(path)
  let names: string[]
  try {
    names = await readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  const leftovers = names.filter((name) => isDeadWritersFile(name, basename(path), join(directory, name)))
  await Promise.all(leftovers.map((name) => rm(join(directory, name), { force: true })))
}

/** `<name>.<pid>.<uuid>.tmp`, as replaceFile names them, of a process that is gone or a write no longer running. */
function isDeadWritersFile(name: string, fileName: string, path: string): boolean {
  if (!name.startsWith(`${fileName}.`)) return false
  const match = /^(\d+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/.exec(
    name.slice(fileName.length + 1),
  )
  if (!match) return false
  const pid = Number(match[1])
  return pid === process.pid ? !writing.has(path) : !isRunning(pid)
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0) // no signal sent: only whether the process exists
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' // exists, owned by someone else
  }
}

async function withLockFile<T>(
  lockPath: string,
  leaseMs: number,
  waitMs: number,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  const token = randomToken()
  const until = Date.now() + waitMs
  for (let wait = 5; !(await tryCreate(lockPath, token)); wait = Math.min(wait * 2, 200)) {
    await takeOverIfStale(lockPath, leaseMs)
    if (Date.now() >= until) throw new LockTimeoutError(name)
    await pause(wait)
  }
  // Touched while held, so that a holder still working is never taken for a crashed one.
  const heartbeat = setInterval(() => {
    const now = new Date()
    utimes(lockPath, now, now).catch(() => {})
  }, leaseMs / 3)
  try {
    return await fn()
  } finally {
    clearInterval(heartbeat)
    if ((await readToken(lockPath)) === token) await rm(lockPath, { force: true })
  }
}

async function tryCreate(lockPath: string, token: string): Promise<boolean> {
  let file
  try {
    file = await open(lockPath, 'wx', 0o600)
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException
    if (code === 'EEXIST') return false
    if (code !== 'ENOENT') throw error
    await mkdir(dirname(lockPath), { recursive: true, mode: 0o700 }) // the store's first use
    return tryCreate(lockPath, token)
  }
  try {
    await file.writeFile(JSON.stringify({ token, pid: process.pid }))
  } catch (error) {
    await file.close()
    await rm(lockPath, { force: true }) // a lock nobody holds (the disk is full) must not block everyone
    throw error
  }
  await file.close()
  return true
}

async function readToken(lockPath: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(lockPath, 'utf8')) as { token?: string }).token
  } catch {
    return undefined
  }
}

/**
 * Removes a lock file untouched for the lease. Moved aside first and then checked: if what was
 * moved is not the stale lock that was seen (its holder's takeover and a new holder came between),
 * it is linked back, which fails harmlessly if yet another holder has made a new one.
 */
async function takeOverIfStale(lockPath: string, leaseMs: number): Promise<void> {
  const seen = await readToken(lockPath)
  const info = await stat(lockPath).catch(() => undefined)
  if (!info || Date.now() - info.mtimeMs < leaseMs) return
  const aside = `${lockPath}.${randomUUID()}.stale`
  try {
    await rename(lockPath, aside)
  } catch {
    return // taken over (or released) by someone else meanwhile
  }
  if ((await readToken(aside)) !== seen) await link(aside, lockPath).catch(() => {})
  await rm(aside, { force: true })
}

import { randomUUID } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { SessionData, SessionStore } from './store.js'

/** The temporary files of this process's writes in progress: the only ones of its pid that are not litter. */
const writing = new Set<string>()

/**
 * A session in a JSON file, readable only by its owner (mode 0600, in a directory it creates with
 * mode 0700). Written to a temporary file and renamed over the old one, so a crash mid-write leaves
 * the old session or the new one, never a truncated file; a failed write removes its temporary file,
 * and `delete` removes those that writers killed mid-write left. Node only: exported from
 * `blueskysdk/node`, never reachable from the main entry.
 */
export class FileSessionStore implements SessionStore {
  constructor(readonly path: string) {}

  async get(): Promise<SessionData | undefined> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    try {
      return JSON.parse(text) as SessionData
    } catch {
      return undefined // not ours or damaged by hand: ignored, and replaced on the next login
    }
  }

  async set(session: SessionData): Promise<void> {
    const text = JSON.stringify(session) // first: a session that cannot be written leaves nothing behind
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 })
    // Unique per write: two writes in the same millisecond (two clients sharing a file) must not share one.
    const temporary = `${this.path}.${process.pid}.${randomUUID()}.tmp`
    writing.add(temporary)
    try {
      const file = await open(temporary, 'wx', 0o600)
      try {
        await file.writeFile(text)
        await file.sync() // on disk before the rename makes it the session
      } finally {
        await file.close()
      }
      await rename(temporary, this.path)
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {}) // tokens must not outlive a failed write
      throw error
    } finally {
      writing.delete(temporary)
    }
  }

  /** Removes the session, and any temporary file of this path whose writer died mid-write. */
  async delete(): Promise<void> {
    await rm(this.path, { force: true })
    const directory = dirname(this.path)
    let names: string[]
    try {
      names = await readdir(directory)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw error
    }
    const leftovers = names.filter((name) => isDeadWritersFile(name, basename(this.path), join(directory, name)))
    await Promise.all(leftovers.map((name) => rm(join(directory, name), { force: true })))
  }

  toJSON(): Record<string, unknown> {
    return { type: 'FileSessionStore', path: this.path }
  }
}

/** `<name>.<pid>.<uuid>.tmp`, as `set` names them, of a process that is gone or a write no longer running. */
function isDeadWritersFile(name: string, sessionName: string, path: string): boolean {
  if (!name.startsWith(`${sessionName}.`)) return false
  const match = /^(\d+)\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/.exec(
    name.slice(sessionName.length + 1),
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

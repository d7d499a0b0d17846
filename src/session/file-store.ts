import { randomUUID } from 'node:crypto'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { SessionData, SessionStore } from './store.js'

/**
 * A session in a JSON file, readable only by its owner (mode 0600). Written to a temporary file
 * and renamed over the old one, so a crash mid-write leaves the old session or the new one, never a
 * truncated file. Node only: exported from `blueskysdk/node`, never reachable from the main entry.
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
    await mkdir(dirname(this.path), { recursive: true })
    const text = JSON.stringify(session) // first: a session that cannot be written leaves nothing behind
    // Unique per write: two writes in the same millisecond (two clients sharing a file) must not share one.
    const temporary = `${this.path}.${process.pid}.${randomUUID()}.tmp`
    const file = await open(temporary, 'wx', 0o600)
    try {
      try {
        await file.writeFile(text)
        await file.sync() // on disk before the rename makes it the session
      } finally {
        await file.close()
      }
      await rename(temporary, this.path)
    } catch (error) {
      await rm(temporary, { force: true }).catch(() => {})
      throw error
    }
  }

  async delete(): Promise<void> {
    await rm(this.path, { force: true })
  }

  toJSON(): Record<string, unknown> {
    return { type: 'FileSessionStore', path: this.path }
  }
}

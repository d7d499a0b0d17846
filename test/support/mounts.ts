// Real filesystems that fail: a full tmpfs (ENOSPC) and a read-only bind mount (EROFS). Tests run
// as root here, where chmod does not stop a write, so a mode cannot make a directory read-only;
// mounting can, where the machine allows it (root, and a mount namespace that lets us).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Why mounting is not possible here (tried once, for real), or undefined if it is. */
export const mountProblem: string | undefined = (() => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mount-probe-'))
  try {
    run('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', dir])
    run('umount', [dir])
    return undefined
  } catch (error) {
    return String((error as { stderr?: Buffer }).stderr ?? error).trim() || String(error)
  } finally {
    rmdirSync(dir)
  }
})()

if (mountProblem)
  console.warn(`NOTICE: tests needing a mount are skipped: mount is not permitted here (${mountProblem})`)

/** A tmpfs of `size` (e.g. `4k`) on `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  run('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir])
}

/** `source` seen read-only at `target` (a bind mount, then remounted read-only). */
export function mountReadOnly(source: string, target: string): void {
  run('mount', ['--bind', source, target])
  try {
    run('mount', ['-o', 'remount,bind,ro', target])
  } catch (error) {
    run('umount', [target])
    throw error
  }
}

export function unmount(dir: string): void {
  run('umount', [dir])
}

import { execFile } from 'node:child_process'
import { cp, mkdir, readdir, stat, symlink } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

async function newestSource(dirs: string[]): Promise<number> {
  let newest = 0
  for (const dir of dirs) {
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts'))
        newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs)
    }
  }
  return newest
}

/**
 * The package as a user gets it, in `dir`: package.json, the built `dist/` and a `node_modules` link to
 * the repo's dependencies. `dist/` is copied when `npm run build` output is present and newer than
 * every source; otherwise the same build (scripts/build/build.mjs) runs into `dir` (the repo's `dist/` is left alone either way,
 * so a concurrent `npm run build` cannot pull it out from under a run).
 */
export async function preparePackage(dir: string): Promise<{ dir: string; built: 'copied' | 'compiled' }> {
  await mkdir(dir, { recursive: true })
  await cp('package.json', path.join(dir, 'package.json'))
  await symlink(path.resolve('node_modules'), path.join(dir, 'node_modules'), 'dir')
  const entry = await stat('dist/src/index.js').catch(() => undefined)
  const fresh = entry !== undefined && entry.mtimeMs > (await newestSource(['src', 'generated']))
  if (fresh) {
    await cp('dist', path.join(dir, 'dist'), { recursive: true })
    return { dir, built: 'copied' }
  }
  await run(process.execPath, ['scripts/build/build.mjs', path.join(dir, 'dist')])
  return { dir, built: 'compiled' }
}

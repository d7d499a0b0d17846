import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Section } from './report.js'

const run = promisify(execFile)
const BIG = { maxBuffer: 64 * 1024 * 1024 }

interface InstallSize {
  /** What the installed files hold, in bytes (npm's "unpacked size", summed). */
  bytes: number
  /** What they take on this file system (`du`: whole blocks per file). */
  disk: number
  files: number
  packages: number
  bins: number
}

/** Every package directory under node_modules, scoped ones included, nested ones too. */
async function countPackages(modules: string): Promise<number> {
  let count = 0
  for (const entry of await readdir(modules, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue
    const dir = path.join(modules, entry.name)
    if (entry.name.startsWith('@')) {
      for (const scoped of await readdir(dir, { withFileTypes: true }))
        if (scoped.isDirectory()) count += 1 + (await countPackages(path.join(dir, scoped.name, 'node_modules')))
    } else count += 1 + (await countPackages(path.join(dir, 'node_modules')))
  }
  return count
}

async function measure(app: string): Promise<InstallSize> {
  const modules = path.join(app, 'node_modules')
  let bytes = 0
  let files = 0
  for (const entry of await readdir(modules, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    bytes += (await stat(path.join(entry.parentPath, entry.name))).size
    files++
  }
  const { stdout } = await run('du', ['-sk', modules])
  const bins = await readdir(path.join(modules, '.bin')).catch(() => [])
  return {
    bytes,
    disk: Number(stdout.split('\t')[0]) * 1024,
    files,
    packages: await countPackages(modules),
    bins: bins.length,
  }
}

/** A fresh app in `dir` with `specs` installed (tarballs or registry specs, from npm's cache where it has them). */
async function installApp(dir: string, specs: string[]): Promise<InstallSize> {
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], {
    cwd: dir,
    ...BIG,
  })
  return measure(dir)
}

/**
 * What `npm install` of each SDK puts into a fresh app: ours from the `npm pack` tarball of the
 * runtime package, the anchors from the registry at the versions this repository pins.
 */
export async function installSection(scratch: string): Promise<Section> {
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', scratch], BIG)
  const tarball = path.join(scratch, stdout.trim().split('\n').pop()!)
  const pinned = JSON.parse(await readFile('package.json', 'utf8')).devDependencies
  const spec = (name: string) => `${name}@${pinned[name]}`
  const apps: [string, string[]][] = [
    ['blueskysdk', [tarball]],
    ['@atproto/api', [spec('@atproto/api')]],
    [
      '@atcute/client + bluesky + password-session',
      [spec('@atcute/client'), spec('@atcute/bluesky'), spec('@atcute/password-session')],
    ],
  ]
  const sizes: InstallSize[] = []
  for (const [, specs] of apps) sizes.push(await installApp(path.join(scratch, `install-${sizes.length}`), specs))
  const MB = 1_000_000
  return {
    title: 'Install size',
    method:
      'A fresh app, `npm install` of the SDK and nothing else: ours is the `npm pack` tarball of the runtime package (`blueskysdk`; the generator is a separate dev dependency), the anchors are the registry packages at the versions this repository pins. "Files" is what the installed files hold (npm\'s unpacked size, summed over `node_modules`); "on disk" is `du` on this file system (whole blocks per file, so many small files cost more). 1 MB = 1,000,000 bytes.',
    unit: 'MB',
    columns: apps.map(([name]) => name),
    lowerIsBetter: true,
    rows: [
      { name: 'node_modules, files', values: sizes.map((s) => s.bytes / MB) },
      { name: 'node_modules, on disk', values: sizes.map((s) => s.disk / MB) },
      { name: 'packages', values: sizes.map((s) => s.packages), unit: '' },
    ],
    notes: [
      `Files: ${apps.map(([name], i) => `${name} ${sizes[i].files.toLocaleString('en-US')}`).join(', ')}. Bins installed into the app (\`node_modules/.bin\`): ${apps.map(([name], i) => `${name} ${sizes[i].bins}`).join(', ')}.`,
    ],
  }
}

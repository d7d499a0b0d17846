/**
 * A newer Node than the machine's, and packages installed for it: for anchors whose newest releases
 * need it (`@atproto/sync` 0.3 and later need Node 22). The Node is the official build from the npm
 * registry's `node-linux-<arch>` package, cached where scripts/ci/node-matrix.sh caches it (so a CI
 * run's copy serves the bench too); packages are installed from the registry by npm running under
 * that Node, into a folder of their own, apart from the repository's node_modules.
 */
import { execFile } from 'node:child_process'
import { access, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The Node 22 that scripts/ci/node-matrix.sh tests on (its PINNED list): change both. */
export const NODE_22 = '22.23.3'

const cache = path.resolve(process.env.NODE_MATRIX_CACHE ?? 'node_modules/.cache/node-matrix')

/** The `bin/node` of Node `version`, installed into the cache first if it is not there. */
export async function nodeBinary(version: string): Promise<string> {
  const dir = path.join(cache, `node-${version}`)
  const node = path.join(dir, 'bin', 'node')
  if (await isVersion(node, version)) return node
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch as string]
  if (!arch) throw new Error(`no node-linux package for ${process.arch}`)
  await mkdir(cache, { recursive: true })
  const tmp = await mkdtemp(path.join(cache, `.node-${version}.`))
  try {
    // npm checks the tarball's integrity against the registry's.
    await run('npm', ['pack', '--silent', `node-linux-${arch}@${version}`], { cwd: tmp })
    await mkdir(path.join(tmp, 'node'))
    await run('tar', ['xzf', `node-linux-${arch}-${version}.tgz`, '-C', 'node', '--strip-components=1'], { cwd: tmp })
    if (!(await isVersion(path.join(tmp, 'node', 'bin', 'node'), version)))
      throw new Error(`node-linux-${arch}@${version} does not run here`)
    await rm(dir, { recursive: true, force: true })
    await rename(path.join(tmp, 'node'), dir)
    return node
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

/** `packages` (npm specs) installed into `dir` by npm under `node`, so that they resolve for that Node. */
export async function installPackages(dir: string, node: string, packages: string[]): Promise<void> {
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'package.json'), '{ "private": true }\n')
  const env = { ...process.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` }
  await run('npm', ['install', '--silent', '--no-audit', '--no-fund', '--ignore-scripts', ...packages], {
    cwd: dir,
    env,
    maxBuffer: 16 << 20,
  })
}

async function isVersion(node: string, version: string): Promise<boolean> {
  try {
    await access(node)
    const { stdout } = await run(node, ['--version'])
    return stdout.trim() === `v${version}`
  } catch {
    return false
  }
}

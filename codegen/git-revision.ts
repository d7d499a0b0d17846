import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { LexiconSource } from './load.js'

const run = promisify(execFile)

/** What one git call may answer: a lexicon folder is a few MB; more is not a lexicon folder. */
const MAX_GIT_OUTPUT = 256 * 1024 * 1024

/**
 * `REV:PATH` in git's own spelling (`main:lexicons`, `HEAD~1:lexicons`, `v0.1.0:lexicons`): a folder
 * as a commit holds it. Only a spelling; whether git knows the revision is `readRevisionFolder`'s to say.
 */
export function revisionSpec(arg: string): { rev: string; path: string } | undefined {
  const colon = arg.indexOf(':')
  // A drive letter (C:\…) or a URL-like value is not a revision; neither is an empty side.
  if (colon < 1 || arg.startsWith('-') || /^[a-zA-Z]:[\\/]/.test(arg)) return undefined
  return { rev: arg.slice(0, colon), path: arg.slice(colon + 1) || '.' }
}

/**
 * The lexicon JSON files under `path` in `rev` of the git repository at `cwd`, named `REV:file` so
 * problems point at what was read. Undefined when git does not know the revision or it holds no such
 * folder. Read with one `ls-tree` and one `cat-file --batch`, however many files.
 */
export async function readRevisionFolder(
  rev: string,
  folder: string,
  cwd = process.cwd(),
): Promise<LexiconSource[] | undefined> {
  const git = (args: string[], input?: string) => gitOutput(args, cwd, input)
  const commit = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]).catch(
    () => undefined,
  )
  if (!commit) return undefined
  const id = commit.toString('utf8').trim()
  const kind = await git(['cat-file', '-t', `${id}:${prefixed(folder)}`]).catch(() => undefined)
  if (kind?.toString('utf8').trim() !== 'tree') return undefined
  // Paths from the repository's root (--full-name), as `<commit>:<path>` wants them.
  const listed = await git(['ls-tree', '-r', '-z', '--full-name', '--name-only', id, '--', folder])
  const files = listed
    .toString('utf8')
    .split('\0')
    .filter((file) => file.endsWith('.json'))
    .sort()
  if (!files.length) return []
  const blobs = parseBatch(await git(['cat-file', '--batch'], files.map((file) => `${id}:${file}\n`).join('')))
  if (blobs.length !== files.length) throw new Error(`git cat-file answered ${blobs.length} of ${files.length} files`)
  return files.map((file, i) => ({ file: `${rev}:${file}`, text: blobs[i]! }))
}

/** `./` makes git read the path from the working directory, as ls-tree's pathspec does. */
function prefixed(folder: string): string {
  return folder.startsWith('./') || folder.startsWith('../') ? folder : `./${folder}`
}

async function gitOutput(args: string[], cwd: string, input?: string): Promise<Buffer> {
  const child = run('git', args, { cwd, encoding: 'buffer', maxBuffer: MAX_GIT_OUTPUT })
  if (input !== undefined) child.child.stdin?.end(input)
  return (await child).stdout
}

/** `cat-file --batch` output: `<oid> blob <size>\n<content>\n` per object, sizes in bytes. */
function parseBatch(output: Buffer): string[] {
  const texts: string[] = []
  let at = 0
  while (at < output.length) {
    const eol = output.indexOf(0x0a, at)
    if (eol < 0) throw new Error('git cat-file: a header without its end')
    const header = output.toString('utf8', at, eol).split(' ')
    if (header[1] !== 'blob') throw new Error(`git cat-file: ${header.join(' ')}`)
    const size = Number(header[2])
    texts.push(output.toString('utf8', eol + 1, eol + 1 + size))
    at = eol + 1 + size + 1
  }
  return texts
}

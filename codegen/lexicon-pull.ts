import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseCommandArgs } from './arguments.js'
import { BUNDLED_LEXICONS_DIR } from './bundled.js'
import { isAuthority, printable } from './lexicon-authority.js'
import { documentFile, documentText, removeDocumentFile, writeFileAtomic } from './lexicon-files.js'
import { LexiconResolver, type Published, ResolutionError } from './lexicon-resolve.js'
import { forEachRef, type LexiconSource, loadLexicons, readLexiconDir } from './load.js'
import {
  defaultLockfile,
  diffPins,
  type Lockfile,
  LockfileError,
  lockfileText,
  type Pin,
  readLockfile,
} from './lockfile.js'
import { isNsid } from './names.js'
import { checkNetworkOptions, NETWORK_OPTIONS } from './network-options.js'
import { loadSdk, MissingSdkError } from './sdk.js'

const USAGE = `Usage: blueskysdk-codegen pull <nsid | authority.*>… [options]
       blueskysdk-codegen pull --check [options]
       blueskysdk-codegen update [<nsid | authority.*>…] [options]

Resolves lexicons where their authorities publish them (DNS _lexicon.<domain> TXT → DID → its PDS →
the com.atproto.lexicon.schema record), with the other lexicons they refer to, into --out, and pins
each in a lockfile. pull adds to what the lockfile asks for and refuses to move a pin; update moves
them to what is published now, printing what changed; pull --check writes nothing and exits 1 when
the published lexicons, the lockfile or the files differ.

  --out DIR        where the documents go, as <nsid path>.json (default: lexicons)
  --lock FILE      the lockfile (default: lexicons.lock.json beside --out)
  --lexicons DIR   lexicons you have already (repeatable): refs to them are not pulled
  --no-bundled     also pull refs to the lexicons bundled with blueskysdk (com.atproto, app.bsky, …)
  --check          pull only: verify, write nothing
  --plc URL        the PLC directory for did:plc (default: https://plc.directory)
  --dns HOST:PORT  DNS server for the TXT lookups (repeatable; default: the system's)
  -h, --help       print this help`

/** Documents one run may pull, refs followed: far beyond any real set, short of a hostile graph's end. */
const MAX_DOCUMENTS = 2_000

type Mode = 'pull' | 'update'

export async function lexiconPull(mode: Mode, argv: string[], usage: (message: string) => Error): Promise<number> {
  const { values, positionals: targets } = parseCommandArgs(
    mode,
    argv,
    {
      out: { type: 'string', default: 'lexicons' },
      lock: { type: 'string' },
      check: { type: 'boolean' },
      ...NETWORK_OPTIONS,
    },
    usage,
  )
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  if (values.check && mode !== 'pull') throw usage('--check goes with pull (update always writes)')
  for (const target of targets) {
    const ok = target.endsWith('.*') ? isAuthority(target.slice(0, -2)) : isNsid(target)
    if (!ok) throw usage(`${mode}: ${target} is neither an NSID nor an authority.* pattern`)
  }
  await checkNetworkOptions(values, usage)
  const out = values.out
  const lockFile = values.lock ?? defaultLockfile(out)

  let lock: Lockfile | undefined
  try {
    lock = await readLockfile(lockFile)
  } catch (error) {
    if (!(error instanceof LockfileError)) throw error
    console.error(`blueskysdk-codegen: ${error.message}`)
    return 1
  }
  if (values.check && !lock) {
    console.error(`blueskysdk-codegen: no lockfile ${lockFile} to check against: pull first`)
    return 1
  }
  const roots = [...new Set([...(lock?.pull ?? []), ...targets])].sort()
  if (!roots.length) throw usage(`${mode}: name the NSIDs or authority.* to pull (no lockfile ${lockFile} lists any)`)

  let pulled: Map<string, Published>
  try {
    const local = await localSources(values.lexicons, !values['no-bundled'], out)
    pulled = await resolveAll(roots, local.ids, { plcUrl: values.plc, dns: values.dns })
    checkSet(pulled, local)
  } catch (error) {
    if (!(error instanceof ResolutionError || error instanceof MissingSdkError)) throw error
    console.error(`blueskysdk-codegen: ${error.message}`)
    console.error('Nothing was written.')
    return 1
  }

  const pins: Record<string, Pin> = {}
  for (const { nsid, did, uri, cid } of pulled.values()) pins[nsid] = { did, uri, cid }
  const changes = diffPins(lock?.lexicons ?? {}, pins)
  const stale = await staleFiles(out, pulled)

  if (values.check) return check(lockFile, lock!, roots, changes, stale)
  if (mode === 'pull' && (changes.changed.length || changes.removed.length)) {
    console.error(`blueskysdk-codegen: the published lexicons moved from what ${lockFile} pins:`)
    for (const line of describeChanges(changes)) console.error(`  ${line}`)
    console.error('Nothing was written; `blueskysdk-codegen update` accepts them.')
    return 1
  }

  // Everything was resolved and checked before the first write.
  for (const { nsid, file } of stale) await writeFileAtomic(file, documentText(pulled.get(nsid)!.doc))
  for (const nsid of changes.removed) await removeDocumentFile(out, nsid)
  await writeFileAtomic(lockFile, lockfileText({ pull: roots, lexicons: pins }))

  const summary = `${pulled.size} lexicon${pulled.size === 1 ? '' : 's'} in ${out}, pinned in ${lockFile}`
  const lines = describeChanges(changes)
  if (mode === 'update') console.log(lines.length ? `Updated ${summary}:` : `Up to date: ${summary}`)
  else console.log(`Pulled ${summary}${lines.length ? ':' : ''}`)
  for (const line of lines) console.log(`  ${line}`)
  const moved = new Set([...changes.added, ...changes.changed.map((c) => c.nsid)])
  for (const { nsid, file, missing } of stale)
    if (!moved.has(nsid))
      console.log(
        `  ${missing ? 'wrote' : 'rewrote'} ${file} (${missing ? 'it was missing' : 'it was not the published document'})`,
      )
  return 0
}

interface LocalSources {
  /** Ids of the documents in the --lexicons folders and (unless --no-bundled) bundled. */
  ids: Set<string>
  sources: LexiconSource[]
  bundled: LexiconSource[]
}

/** The lexicons at hand, whose refs need no pulling; files under `out` are the pull's own, not among them. */
async function localSources(dirs: string[], withBundled: boolean, out: string): Promise<LocalSources> {
  const own = path.resolve(out) + path.sep
  const sources = (await Promise.all(dirs.map(readLexiconDir)))
    .flat()
    .filter((source) => !path.resolve(source.file).startsWith(own))
  const bundled = withBundled ? await readLexiconDir(BUNDLED_LEXICONS_DIR) : []
  const ids = new Set<string>()
  for (const { text } of [...sources, ...bundled]) {
    const id = idOf(text)
    if (id) ids.add(id)
  }
  return { ids, sources, bundled }
}

function idOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { id?: unknown } | null)?.id
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined // the parser names the problem when the set is checked
  }
}

/**
 * The roots and every lexicon they refer to that is not at hand, from the network: a wave of lookups
 * at a time (the roots, then what they refer to, …), several at once, so a set spread over many
 * authorities and PDSes costs about as many round trips as its refs are deep, not as it has documents.
 */
async function resolveAll(
  roots: string[],
  known: ReadonlySet<string>,
  options: { plcUrl?: string; dns?: string[] },
): Promise<Map<string, Published>> {
  const resolver = new LexiconResolver(await loadSdk(), options)
  const pulled = new Map<string, Published>()
  // What is asked for next: the NSIDs among the roots, then what the documents pulled refer to.
  const wanted = new Set(roots.filter((root) => !root.endsWith('.*')))
  const add = (published: Published) => {
    pulled.set(published.nsid, published)
    forEachRef(published.doc.defs, (ref) => {
      const id = ref.startsWith('#') ? undefined : ref.split('#')[0]
      // An id that is not an NSID is never asked for: the parser refuses it when the set is checked.
      if (id && isNsid(id) && !known.has(id)) wanted.add(id)
    })
  }
  const authorities = roots.filter((root) => root.endsWith('.*'))
  const listings = await settledInOrder(authorities, (root) => resolver.list(root.slice(0, -2)))
  listings.forEach((listed, index) => {
    if (!listed.length) throw new ResolutionError(`${authorities[index]}: its authority publishes no lexicons under it`)
    listed.forEach(add)
  })
  for (;;) {
    const wave = [...wanted].filter((nsid) => !pulled.has(nsid)).sort()
    wanted.clear()
    // Checked before a wave is asked for (and after the listings, before an empty last wave).
    if (pulled.size + wave.length > MAX_DOCUMENTS)
      throw new ResolutionError(`more than ${MAX_DOCUMENTS} lexicons to pull: refusing to follow refs further`)
    if (!wave.length) break
    for (const published of await settledInOrder(wave, (nsid) => resolver.get(nsid))) add(published)
  }
  return new Map([...pulled].sort(([a], [b]) => (a < b ? -1 : 1)))
}

/** Lookups in flight at once: enough to overlap round trips, few enough not to flood one PDS. */
const CONCURRENT_LOOKUPS = 8

/**
 * `lookUp` over the items, at most CONCURRENT_LOOKUPS at a time. Every lookup settles before the first
 * failure in the items' order is thrown, so the error a run reports does not depend on timing.
 */
async function settledInOrder<T>(items: string[], lookUp: (item: string) => Promise<T>): Promise<T[]> {
  const settled: PromiseSettledResult<T>[] = []
  let next = 0
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++)
      settled[index] = await lookUp(items[index]).then(
        (value) => ({ status: 'fulfilled', value }),
        (reason: unknown) => ({ status: 'rejected', reason }),
      )
  }
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_LOOKUPS, items.length) }, worker))
  return settled.map((result) => {
    if (result.status === 'rejected') throw result.reason
    return result.value
  })
}

/**
 * The generator's own parser over what was pulled, with the lexicons at hand: each document valid,
 * every ref resolving. Problems name the record's AT URI; a `LexiconError` reaches the CLI, which
 * prints them and that nothing was written.
 */
function checkSet(pulled: Map<string, Published>, local: LocalSources): void {
  const published = [...pulled.values()].map(({ uri, doc }) => ({ file: uri, text: JSON.stringify(doc) }))
  const others = local.sources.filter(({ text }) => !pulled.has(idOf(text) ?? ''))
  const bundled = local.bundled.filter(({ text }) => !pulled.has(idOf(text) ?? ''))
  loadLexicons([...published, ...others], { bundled })
}

/** Files that are missing or are not, byte for byte, what pull writes for the published document. */
async function staleFiles(out: string, pulled: Map<string, Published>): Promise<StaleFile[]> {
  const stale: StaleFile[] = []
  for (const [nsid, { doc }] of pulled) {
    const file = documentFile(out, nsid)
    const text = await readFile(file, 'utf8').catch(() => undefined)
    if (text !== documentText(doc)) stale.push({ nsid, file, missing: text === undefined })
  }
  return stale
}

interface StaleFile {
  nsid: string
  file: string
  missing: boolean
}

function describeChanges(changes: ReturnType<typeof diffPins>): string[] {
  return [
    ...changes.added.map((nsid) => `added ${nsid}`),
    ...changes.changed.map(({ nsid, before, after }) =>
      before.did === after.did
        ? `changed ${nsid} (${before.cid} → ${after.cid})`
        : `changed ${nsid} (now published by ${after.did}, was ${before.did})`,
    ),
    ...changes.removed.map((nsid) => `removed ${nsid} (no longer published or referred to)`),
  ]
}

function check(
  lockFile: string,
  lock: Lockfile,
  roots: string[],
  changes: ReturnType<typeof diffPins>,
  stale: StaleFile[],
): number {
  const differences = [
    ...changes.added.map((nsid) => `${nsid}: published, not pinned`),
    ...changes.changed.map(({ nsid, before, after }) => `${nsid}: pinned ${before.cid}, published ${after.cid}`),
    ...changes.removed.map((nsid) => `${nsid}: pinned, no longer published or referred to`),
    ...stale.map(({ nsid, file, missing }) =>
      missing ? `${nsid}: ${file} is missing` : `${nsid}: ${file} differs from the published document`,
    ),
  ]
  const askedFor = roots.filter((root) => !lock.pull.includes(root))
  differences.push(...askedFor.map((root) => `${root}: not among what ${lockFile} pulls`))
  if (!differences.length) {
    const count = Object.keys(lock.lexicons).length
    console.log(`${count} lexicon${count === 1 ? '' : 's'} match ${lockFile} and the published records`)
    return 0
  }
  console.error(`${differences.length} difference${differences.length === 1 ? '' : 's'} from ${lockFile}:`)
  for (const line of differences) console.error(`  ${printable(line)}`)
  console.error('Nothing was written; `blueskysdk-codegen update` takes the published versions.')
  return 1
}

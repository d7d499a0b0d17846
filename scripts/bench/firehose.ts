import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { transform } from 'esbuild'
import { recordFirehose, type Recording } from './firehose-record.js'
import { BASELINE, type Consumer, CONSUMERS, type Result, type WorkerJob } from './firehose-worker.js'
import { installPackages, NODE_22, nodeBinary } from './newer-node.js'
import { median, type Section } from './report.js'

const run = promisify(execFile)

/** `taskset -c <core>` where it works and there are two cores to split: the consumer on 0, the replay server on 1. */
function pinning(): ((core: number) => string[]) | undefined {
  if (os.cpus().length < 2) return undefined
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' })
    return (core) => ['taskset', '-c', String(core)]
  } catch {
    return undefined
  }
}

interface Replay {
  service: string
  /** Its PLC directory, serving the recording's DID documents. */
  plcUrl: string
  close(): Promise<void>
}

/** The replay server (./firehose-replay.ts) in its own process; it exits when its stdin closes. */
async function startReplay(recording: Recording, pin: string[]): Promise<Replay> {
  const script = 'scripts/bench/firehose-replay.ts'
  const [command, ...args] = [
    ...pin,
    process.execPath,
    '--import',
    'tsx',
    script,
    recording.file,
    recording.documentsFile,
  ]
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`the replay server exited (${code}) before listening`)))
    })
    const { port, plcPort } = JSON.parse(line) as { port: number; plcPort: number }
    return {
      service: `http://127.0.0.1:${port}`,
      plcUrl: `http://127.0.0.1:${plcPort}`,
      async close() {
        child.stdin!.end()
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      },
    }
  } catch (error) {
    child.kill('SIGKILL')
    await exited
    throw error
  }
}

/**
 * A Node the consumers run on: its binary, and the folder the worker is compiled into, whose
 * node_modules the anchors are imported from (ours always comes from the built package's `dist/`).
 */
interface Runtime {
  node: string
  /** `v22.23.3`. */
  version: string
  workerDir: string
}

/** `Node 22`, as the rows name a runtime. */
const labelOf = (runtime: Runtime) => `Node ${runtime.version.slice(1).split('.')[0]}`

/**
 * The anchors' newest releases need Node 22 (`@atproto/sync` 0.3 and later): that Node from the
 * registry, with them installed apart from the repository's node_modules.
 */
const NODE_22_ANCHORS = ['@atproto/sync@0.4.11', '@atproto/identity@^0.5.14', '@skyware/firehose@0.5.2', 'ws@^8.18']

async function node22Runtime(dir: string): Promise<Runtime> {
  const node = await nodeBinary(NODE_22)
  const workerDir = path.join(dir, 'node22')
  await installPackages(workerDir, node, NODE_22_ANCHORS)
  return { node, version: `v${NODE_22}`, workerDir }
}

async function consume(consumer: Consumer, job: WorkerJob, pin: string[], runtime: Runtime): Promise<Result> {
  const [command, ...args] = [...pin, runtime.node, workerScript(runtime.workerDir), consumer, JSON.stringify(job)]
  const { stdout } = await run(command, args, { timeout: 180_000, maxBuffer: 1 << 20 })
  return JSON.parse(stdout) as Result
}

const workerScript = (workerDir: string) => path.join(workerDir, 'firehose-worker.mjs')

/** The worker compiled into `workerDir`, so that its imports resolve through the node_modules there. */
async function compileWorker(workerDir: string): Promise<void> {
  const { code } = await transform(await readFile('scripts/bench/firehose-worker.ts', 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
  })
  await writeFile(workerScript(workerDir), code)
}

/**
 * Real `com.atproto.sync.subscribeRepos` frames, recorded from a local PDS at bench time, replayed
 * over a loopback WebSocket to each consumer in fresh processes, `rounds` interleaved rounds; frames/s,
 * the median. Where ours is not 2× the fastest anchor, a CPU profile of ours says where its time goes.
 */
export async function firehoseSection(
  scratch: string,
  packageDir: () => Promise<string>,
  rounds = 3,
): Promise<Section> {
  const dir = await mkdtemp(path.join(scratch, 'firehose-'))
  try {
    // The package builds (when its dist/ is stale) and Node 22's anchors install while the PDS records.
    const [recording, built, node22] = await Promise.all([
      recordFirehose(path.join(dir, 'frames.bin')),
      packageDir(),
      node22Runtime(dir),
    ])
    if (recording.frames < 10_000) throw new Error(`recorded only ${recording.frames} frames`)
    console.error(
      `  recorded ${recording.frames.toLocaleString('en-US')} frames (${(recording.bytes / 1e6).toFixed(1)} MB) in ${(recording.writeMs / 1000).toFixed(0)} s of writes`,
    )
    return await replaySection(recording, built, dir, rounds, [node22])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * The measuring half of the section: `recording` replayed to every consumer on the machine's Node,
 * then on each of `newer` (the anchors' newest releases); profiles go in `dir`.
 */
export async function replaySection(
  recording: Recording,
  packageDir: string,
  dir: string,
  rounds = 3,
  newer: Runtime[] = [],
): Promise<Section> {
  const machine: Runtime = { node: process.execPath, version: process.version, workerDir: packageDir }
  const runtimes = [machine, ...newer]
  for (const runtime of runtimes) await compileWorker(runtime.workerDir)
  const pin = pinning()
  const replay = await startReplay(recording, pin?.(1) ?? [])
  try {
    const job: WorkerJob = { packageDir, service: replay.service, plcUrl: replay.plcUrl, frames: recording.frames }
    const rows: Section['rows'] = []
    const notes: string[] = []
    for (const runtime of runtimes) {
      const measured = await measure(runtime, job, pin, rounds, dir)
      rows.push(...measured.rows)
      notes.push(...measured.notes)
    }
    notes.push(
      "`@atcute/jetstream` and `@skyware/jetstream` are not measured: they read Jetstream's JSON, not these frames; there is no `@atcute/firehose` on the registry.",
    )
    return {
      title: 'Firehose throughput',
      method:
        `Frames per second (higher is better, so a ratio above 1× means ours is faster) consuming ${recording.frames.toLocaleString('en-US')} real \`com.atproto.sync.subscribeRepos\` frames ` +
        `(${(recording.bytes / 1e6).toFixed(1)} MB: ${describeTypes(recording)}) recorded at bench time from a local PDS (\`startNetwork()\`), where ${recording.accounts} accounts wrote in parallel through the SDK's client ` +
        `(${recording.writes.toLocaleString('en-US')} writes: posts, some with facets, langs, replies, quotes or link cards; likes, reposts, follows, profile updates, deletes, a few multi-op \`applyWrites\`). ` +
        `A loopback \`ws\` server in its own process replays them over a real WebSocket as fast as each consumer reads (it waits on socket backpressure), then closes. ` +
        `Each consumer runs in a fresh plain \`node\` process (ours from the built package's \`dist/\`, as an app runs it)${pin ? ' pinned to core 0 (`taskset -c 0`; the replay server on core 1)' : ''}, ${rounds} interleaved rounds, the median; timed from the first message its code gets to the last. ` +
        'Ours: `client.com.atproto.sync.subscribeRepos({ cursor: 0 }, { webSocket: ws, reconnect: false })` in a `for await` loop, which decodes each frame, validates the message against the lexicon and reads each `#commit` into ops with records decoded from its CAR blocks and validated against their collections; `validate: false` skips both validations. ' +
        `With \`verify: signatureVerifier({ plcUrl })\` (\`blueskysdk/verify\`) it also checks each \`#commit\` and \`#sync\` against what its repo signed: the commit block hashes to the event's CID, its DID and rev are the event's, its signature is by the \`#atproto\` key of the repo's DID document, and each op is proven by the signed MST (every node on its path and its record hashed, sha-256). ` +
        `The documents: at record time the ${thousands(recording.dids)} repos' DID documents were read from the local PLC (\`GET /<did>\`); at replay an HTTP server on loopback, in the replay server's process, answers the PLC directory's \`GET /<did>\` with them, and the verifying consumers are pointed at it (\`plcUrl\`), so each fetches each document over HTTP once and caches it. ` +
        `Each consumer runs on the machine's Node (${process.version}) and on ${newer.map((runtime) => `${labelOf(runtime)} (${runtime.version})`).join(', ')} from the npm registry's \`node-linux\` package, where the anchors are their newest releases, installed for it apart from the repository (\`@atproto/sync\` 0.3 and later need Node 22). Anchors' versions: ${(await Promise.all(runtimes.map(async (runtime) => `on ${labelOf(runtime)}, ${await anchorVersions(runtime)}`))).join('; ')}. ` +
        '`@atproto/sync` `Firehose` with `unauthenticatedCommits` and `unauthenticatedHandles` and a resolver that looks nothing up: it decodes each frame, validates the message against its lexicon (`@atproto/lexicon` in 0.1, `@atproto/lex` in 0.4), reads the CAR with every block’s CID checked (sha-256), and hands each op to `handleEvent` with its record (`cborToLexRecord`); it has no mode without that validation, so its figure is in both of the first rows. ' +
        "Authenticated (the verify row's anchor): the same without `unauthenticatedCommits`, with `IdResolver({ plcUrl, didCache: new MemoryCache() })` on the same served documents: each commit's signature checked by its repo's key and each op by an MST proof (`verifyProofs`); it checks no `#sync` signature, and handles stay unauthenticated (the `.test` handles have no DNS or host to ask). " +
        '`@skyware/firehose` `Firehose({ relay, cursor: "0", ws, autoReconnect: false })`: decodes each frame and every block of a commit’s CAR (records, MST nodes and the commit), keyed by CID string, and validates nothing, so its figure is in the first two rows; it verifies nothing, so it has none in the third. ' +
        'Every consumer counts messages, ops and the records they carry.',
      unit: 'frames/s',
      columns: ['blueskysdk', '@atproto/sync', '@skyware/firehose'],
      lowerIsBetter: false,
      rows,
      notes,
    }
  } finally {
    await replay.close()
  }
}

/** Every consumer on `runtime`, `rounds` interleaved rounds: its three rows and what it found. */
async function measure(
  runtime: Runtime,
  job: WorkerJob,
  pin: ((core: number) => string[]) | undefined,
  rounds: number,
  dir: string,
): Promise<{ rows: Section['rows']; notes: string[] }> {
  const load = os.loadavg()[0]
  const all: Consumer[] = [...CONSUMERS, BASELINE]
  const runs = new Map<Consumer, Result[]>(all.map((consumer) => [consumer, []]))
  for (let round = 0; round < rounds; round++) {
    // Each round starts with another consumer, so that drift over the run hits all alike.
    const order = all.map((_, i) => all[(i + round) % all.length])
    for (const consumer of order) runs.get(consumer)!.push(await consume(consumer, job, pin?.(0) ?? [], runtime))
  }
  const rate = (consumer: Consumer) => median(runs.get(consumer)!.map((r) => r.perSecond))
  const [validating, decoding, verifying, sync, syncAuthenticated, skyware] = CONSUMERS.map(rate)
  const on = `, ${labelOf(runtime)}`
  const rows: Section['rows'] = [
    { name: `decode + validate + record ops${on}`, values: [validating, sync, skyware] },
    { name: `decode + record ops, no validation${on}`, values: [decoding, sync, skyware] },
    // @skyware/firehose verifies nothing: no figure in this row.
    { name: `decode + validate + verify + record ops${on}`, values: [verifying, syncAuthenticated, undefined] },
  ]
  const notes = findings(runs, rate, load, runtime)
  const fastest = Math.max(sync, skyware)
  for (const [consumer, ours, anchor, mode, file] of [
    ['blueskysdk', validating, fastest, 'validating', 'validate'],
    ['blueskysdk (validate: false)', decoding, fastest, 'validate: false', 'decode'],
    ['blueskysdk (verify)', verifying, syncAuthenticated, 'verifying', 'verify'],
  ] as const) {
    if (ours >= 2 * anchor) continue
    const profile = path.join(dir, `${file}-${labelOf(runtime).replace(/\W/g, '')}.cpuprofile`)
    const profiled = await consume(consumer, { ...job, profile }, pin?.(0) ?? [], runtime)
    notes.push(
      `Where ours (${mode}, ${labelOf(runtime)}) spends its time: ${format(ours / anchor)}× the fastest anchor, short of 2×. ` +
        describeProfile(JSON.parse(await readFile(profile, 'utf8')) as CpuProfile, profiled),
    )
  }
  return { rows, notes }
}

/** `@atproto/sync 0.4.11, @skyware/firehose 0.5.2`: as installed where `runtime`'s worker imports them from. */
async function anchorVersions(runtime: Runtime): Promise<string> {
  const versionOf = async (name: string) => {
    const manifest = path.join(runtime.workerDir, 'node_modules', name, 'package.json')
    return `\`${name}\` ${(JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version}`
  }
  return (await Promise.all(['@atproto/sync', '@skyware/firehose'].map(versionOf))).join(', ')
}

const format = (n: number) => n.toFixed(2)
const thousands = (n: number) => Math.round(n).toLocaleString('en-US')

function describeTypes(recording: Recording): string {
  const types = Object.entries(recording.types)
    .sort((a, b) => b[1] - a[1])
    .map(([type, n]) => `${thousands(n)} \`${type}\``)
    .join(', ')
  const ops = Object.entries(recording.ops)
    .map(([action, n]) => `${thousands(n)} ${action}s`)
    .join(', ')
  return `${types}; ${ops} among the commits' ops`
}

/** What the consumers read (the same, or where they differ), what validation costs ours, the runs, and what was left out. */
function findings(
  runs: Map<Consumer, Result[]>,
  rate: (consumer: Consumer) => number,
  load: number,
  runtime: Runtime,
): string[] {
  const consumers: Consumer[] = [...CONSUMERS]
  const results = consumers.flatMap((consumer) => runs.get(consumer)!.map((result) => ({ consumer, ...result })))
  const [first] = results
  const same = results.every(
    (r) =>
      r.ops === first.ops &&
      r.records === first.records &&
      (r.consumer.startsWith('@atproto/sync') || r.messages === first.messages),
  )
  const invalid = results.filter((r) => r.invalid > 0)
  const syncSeqs = runs.get('@atproto/sync')![0].messages
  const read = same
    ? `${labelOf(runtime)}: every consumer read every frame in every run: ${thousands(first.messages)} messages, ${thousands(first.ops)} commit ops, ${thousands(first.records)} records (\`@atproto/sync\` is counted by its events' distinct seqs, ${thousands(syncSeqs)}: a commit without ops gives it no event).`
    : `${labelOf(runtime)}: the consumers did not read the same: ${results.map((r) => `${r.consumer} ${thousands(r.messages)} messages, ${thousands(r.ops)} ops, ${thousands(r.records)} records`).join('; ')}.`
  const reported = invalid.length
    ? ` Reported as invalid or failed: ${invalid.map((r) => `${r.consumer} ${r.invalid} (${r.errors.slice(0, 2).join('; ')})`).join('; ')}.`
    : ' None reported a message or a record as invalid.'
  const [validating, decoding, verifying] = [
    rate('blueskysdk'),
    rate('blueskysdk (validate: false)'),
    rate('blueskysdk (verify)'),
  ]
  const each = ([...consumers, BASELINE] as Consumer[])
    .map(
      (consumer) =>
        `${consumer} ${runs
          .get(consumer)!
          .map((r) => thousands(r.perSecond))
          .join(' / ')}`,
    )
    .join('; ')
  return [
    read + reported,
    `${labelOf(runtime)}: validation (the message, and each record against its collection's lexicon) costs ours ${((1 - validating / decoding) * 100).toFixed(0)}% of its throughput: ${thousands(validating)} frames/s validating, ${thousands(decoding)} without. Verifying as well (a signature per commit, an MST proof per op) leaves ${thousands(verifying)} frames/s, ${((1 - verifying / validating) * 100).toFixed(0)}% less than validating alone. ` +
      `Frames/s of each run, round by round: ${each} (load average ${load.toFixed(1)} as the runs began; the machine is shared). ` +
      `The last, a \`ws\` client that only counts messages, is the ceiling the socket and the replay server leave.`,
  ]
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[]
  samples: number[]
  timeDeltas: number[]
}

/** Where a sampled CPU profile's self time goes: by area (package or source file), then by function. */
function describeProfile(profile: CpuProfile, result: Result): string {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  // The profiler's own stop (an inspector call) is not the consumer's time.
  const profiler = new Set<number>()
  const mark = (id: number, under: boolean) => {
    const node = nodes.get(id)!
    const inside = under || node.callFrame.url.startsWith('node:inspector')
    if (inside) profiler.add(id)
    for (const child of node.children ?? []) mark(child, inside)
  }
  mark(profile.nodes[0].id, false)
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    if (!profiler.has(id)) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, time] of self) {
    const { functionName, url } = nodes.get(id)!.callFrame
    const area = areaOf(functionName, url)
    areas.set(area, (areas.get(area) ?? 0) + time)
    if (functionName.startsWith('(')) continue
    const where = url === '' && /^fast[A-Z]/.test(functionName) ? 'a compiled validator' : shortUrl(url)
    const name = `\`${functionName || '(anonymous)'}\` (${where})`
    functions.set(name, (functions.get(name) ?? 0) + time)
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, time]) => `${name} ${((100 * time) / total).toFixed(0)}%`)
      .join(', ')
  return (
    `A CPU profile of one more run (${thousands(result.perSecond)} frames/s under the profiler; ${thousands(total / 1000)} ms sampled from subscribing to the last message), self time by area: ${top(areas, 8)}. ` +
    `Top functions: ${top(functions, 8)}.`
  )
}

function areaOf(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'garbage collection'
  if (functionName === '(idle)') return 'idle (waiting for the socket)'
  if (functionName === '(program)') return 'V8 and native (program)'
  if (functionName.startsWith('RegExp: ')) return 'lexicon validation (format regexes)'
  // The validators src/runtime/schema/compile.ts builds with `new Function`: code without a file.
  if (url === '' && /^fast[A-Z]/.test(functionName)) return 'lexicon validation (compiled validators)'
  if (/\/node_modules\/@atcute\/(cbor|uint8array)\//.test(url)) return 'CBOR decoding (@atcute/cbor, its strings)'
  if (/\/node_modules\/@atcute\/(car|cid|varint|multibase)\//.test(url)) return 'CAR and CID reading (@atcute/car, cid)'
  if (url.includes('/node_modules/ws/')) return 'WebSocket framing (ws)'
  const ours = ownSource(url)
  if (ours?.startsWith('src/runtime/schema/')) return 'lexicon validation (src/runtime/schema)'
  if (ours?.startsWith('generated/')) return 'generated lexicons'
  if (ours) return ours
  if (url.startsWith('node:')) return 'Node internals (net, streams, events)'
  if (url === '') return `native (${functionName || 'anonymous'})`
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)
  return pkg ? pkg[1] : url
}

/** `src/…` or `generated/…` for a file of ours (the built package's `dist/`, or the repo's sources). */
function ownSource(url: string): string | undefined {
  if (url.includes('/node_modules/')) return undefined
  return /\/(?:dist\/)?((?:src|generated)\/.*)$/.exec(url)?.[1]?.replace(/\.js$/, '')
}

function shortUrl(url: string): string {
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(url)
  if (pkg) return `${pkg[1]}/${pkg[2].split('/').pop()}`
  return ownSource(url) ?? (url || 'native')
}

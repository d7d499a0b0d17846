/**
 * Records a real `com.atproto.sync.subscribeRepos` stream for the firehose bench: a local PDS
 * (`startNetwork()`), several accounts writing a mix of Bluesky records in parallel through the
 * SDK's client, then the PDS's own frames from cursor 0, exactly as its WebSocket sent them, kept in
 * a length-prefixed file (4-byte big-endian length, then the frame) for the replay server, and the
 * DID document of every repo the frames name, as the local PLC serves it (for `verify` at replay,
 * when that PLC is gone).
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { access, constants, stat } from 'node:fs/promises'
import { promisify } from 'node:util'
import { decodeFirst } from '@atcute/cbor'
import WebSocket from 'ws'
import { startNetwork, type Account, type TestNetwork } from '../../test/network/index.js'
import { type DidDocuments, writeDocuments, writeFrames } from './firehose-frames.js'
import type { WriterJob } from './firehose-writer.js'

const run = promisify(execFile)

export interface Recording {
  file: string
  /** The DID documents of the repos (./firehose-frames.ts `readDocuments`), and how many. */
  documentsFile: string
  dids: number
  frames: number
  bytes: number
  /** Frames by the header's `t` (`#commit`, `#identity`, …). */
  types: Record<string, number>
  /** Ops in all `#commit` frames, by action. */
  ops: Record<string, number>
  /** The seq of the last frame. */
  lastSeq: number
  accounts: number
  /** Calls made (createRecord, putRecord, deleteRecord, applyWrites). */
  writes: number
  /** Wall time of writing the activity, and of reading it back off the socket. */
  writeMs: number
  captureMs: number
}

/**
 * Writes `targetCommits` commits (one frame each) from `accounts` accounts in parallel, then captures
 * the whole stream into `file`.
 */
export async function recordFirehose(file: string, targetCommits = 10_000, accounts = 8): Promise<Recording> {
  // The PDS's SQLite files in memory where there is a tmpfs: the same work, with less of the disk's noise.
  const tmpdir = process.env.TMPDIR
  if (await isWritableDir('/dev/shm')) process.env.TMPDIR = '/dev/shm'
  let network: TestNetwork
  try {
    network = await startNetwork()
  } finally {
    if (tmpdir === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = tmpdir
  }
  try {
    const created: Account[] = []
    for (let i = 0; i < accounts; i++)
      created.push(await network.createAccount(`fh${i}${randomBytes(3).toString('hex')}`))
    const started = performance.now()
    const job: WriterJob = {
      service: network.pdsUrl,
      accounts: created,
      commitsPerAccount: Math.ceil(targetCommits / accounts),
    }
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', 'scripts/bench/firehose-writer.ts', JSON.stringify(job)],
      {
        maxBuffer: 1 << 20,
      },
    )
    const { writes } = JSON.parse(stdout) as { writes: number }
    const writeMs = performance.now() - started

    // The stream from 0: the backfill runs up to the live head, then the PDS says nothing until a write.
    const captured = performance.now()
    const frames = await capture(
      `${network.pdsUrl.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=0`,
    )
    const captureMs = performance.now() - captured

    const types: Record<string, number> = {}
    const ops: Record<string, number> = {}
    const dids = new Set<string>()
    let lastSeq = 0
    let bytes = 0
    for (const frame of frames) {
      bytes += frame.length
      const [header, rest] = decodeFirst(frame) as [{ t?: string; op?: number }, Uint8Array]
      const [body] = decodeFirst(rest) as [
        { seq?: number; ops?: { action: string }[]; repo?: unknown; did?: unknown },
        Uint8Array,
      ]
      const type = header.op === 1 ? (header.t ?? '?') : `error ${header.op}`
      types[type] = (types[type] ?? 0) + 1
      if (typeof body.seq === 'number') lastSeq = body.seq
      for (const op of body.ops ?? []) ops[op.action] = (ops[op.action] ?? 0) + 1
      for (const did of [body.repo, body.did]) if (typeof did === 'string') dids.add(did)
    }
    if ((types['#commit'] ?? 0) < writes)
      throw new Error(`captured ${types['#commit'] ?? 0} commit frames for ${writes} writes: the stream was cut short`)

    await writeFrames(file, frames)
    const documentsFile = `${file}.dids.json`
    await writeDocuments(documentsFile, await fetchDocuments(network.plcUrl, dids))
    return {
      file,
      documentsFile,
      dids: dids.size,
      frames: frames.length,
      bytes,
      types,
      ops,
      lastSeq,
      accounts,
      writes,
      writeMs,
      captureMs,
    }
  } finally {
    await network.close()
  }
}

/** Each DID's document from the PLC directory at `plcUrl` (`GET /<did>`), exactly as it answered. */
async function fetchDocuments(plcUrl: string, dids: Set<string>): Promise<DidDocuments> {
  const documents: DidDocuments = {}
  for (const did of dids) {
    const response = await fetch(`${plcUrl}/${did}`)
    if (!response.ok) throw new Error(`the PLC has no document for ${did} (${response.status})`)
    documents[did] = await response.json()
  }
  return documents
}

/** Every binary frame of `url` until it has been quiet for `quietMs` (the end of the backfill). */
function capture(url: string, quietMs = 1500): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const frames: Buffer[] = []
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 })
    let quiet: ReturnType<typeof setTimeout> | undefined
    const done = () => {
      socket.removeAllListeners('close')
      socket.once('close', () => resolve(frames))
      socket.close(1000)
    }
    socket.on('open', () => (quiet = setTimeout(done, quietMs)))
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return reject(new Error('the PDS sent a text frame'))
      frames.push(Buffer.from(data))
      quiet?.refresh()
    })
    socket.on('error', reject)
    socket.on('close', (code) => {
      clearTimeout(quiet)
      reject(new Error(`the PDS closed the stream (${code}) during the capture`))
    })
  })
}

async function isWritableDir(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK)
    return (await stat(dir)).isDirectory()
  } catch {
    return false
  }
}

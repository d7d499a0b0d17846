// A consumer of the local PDS's firehose far slower than the stream, in its own process so that its
// memory is its own (the test's process holds the PDS). Reads seqs (from, until] with
// maxBufferedMessages 100, taking `slowMs` over each of its first `slowMessages` messages while
// sampling RSS, and the rest at full speed. Prints a JSON report.
import WebSocket from 'ws'
import { Client, type WebSocketConstructor } from '../../src/index.js'

const [pdsUrl, fromArg, untilArg, slowArg, slowMessagesArg] = process.argv.slice(2)
const from = Number(fromArg)
const until = Number(untilArg)
const webSocket = ((globalThis as { WebSocket?: unknown }).WebSocket ?? WebSocket) as WebSocketConstructor
const seqOf = (message: { $type: string; seq?: unknown }) => (typeof message.seq === 'number' ? message.seq : -1)
const client = new Client({ service: pdsUrl })
const reconnect = { minDelayMs: 20, maxDelayMs: 200 }

const slowMs = Number(slowArg)
const slowMessages = Number(slowMessagesArg)

// RSS, and the memory the process holds after a full GC (heap, buffers): what buffering would grow.
let baseline = { rss: 0, live: 0 }
const peak = { rss: 0, live: 0 }
let sampler: ReturnType<typeof setInterval> | undefined
function sample() {
  globalThis.gc!()
  const { rss, heapUsed, external } = process.memoryUsage()
  return { rss, live: heapUsed + external }
}

const sub = client.com.atproto.sync.subscribeRepos({ cursor: from }, { webSocket, reconnect, maxBufferedMessages: 100 })
let seqs = 0
let gaps = 0
let last = from
let peakBuffered = 0
for await (const message of sub) {
  const seq = seqOf(message)
  if (seq === -1) continue
  if (seqs === 0) {
    // The baseline once the stream runs (its modules loaded, the socket open), so what grows is what it holds.
    baseline = sample()
    sampler = setInterval(() => {
      const now = sample()
      peak.rss = Math.max(peak.rss, now.rss)
      peak.live = Math.max(peak.live, now.live)
    }, 100)
  }
  if (seq !== last + 1) gaps++
  last = seq
  seqs++
  peakBuffered = Math.max(peakBuffered, sub.stats.buffered)
  if (seqs <= slowMessages) await new Promise((resolve) => setTimeout(resolve, slowMs))
  else clearInterval(sampler)
  if (seq >= until) break
}
clearInterval(sampler)
const report = {
  seqs,
  gaps,
  peakBuffered: Math.max(peakBuffered, sub.stats.peakBuffered),
  rssGrowthMb: (peak.rss - baseline.rss) / 2 ** 20,
  liveGrowthMb: (peak.live - baseline.live) / 2 ** 20,
  reconnects: sub.stats.reconnects,
  pauses: sub.stats.pauses,
  slowMs,
}
process.stdout.write(`${JSON.stringify(report)}\n`)
process.exit(0)

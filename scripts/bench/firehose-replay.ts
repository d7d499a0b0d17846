/**
 * The firehose bench's replay server, in its own process (pinned to another core than the consumer
 * where the machine allows): a loopback WebSocket server that, on each connection to
 * `/xrpc/com.atproto.sync.subscribeRepos`, sends every recorded frame after its `cursor` param (all
 * of them without one) as a binary message as fast as the consumer takes them, then closes
 * normally (1000). Honouring the cursor as a relay does, a consumer that reconnects resumes rather
 * than reading the stream again. Backpressure: once more than
 * `HIGH_WATER` bytes wait in the socket's buffers it waits for them to be written, so a consumer
 * that pauses reading holds the server back instead of the server buffering the stream.
 *
 * Beside it, on a port of its own, the PLC directory of the recording: `GET /<did>` answers the DID
 * document the local PLC served at record time (404 for any other), so that verifying consumers
 * look repos' keys up over real HTTP as they would from plc.directory.
 * Prints `{"port":N,"plcPort":M}` once listening; exits when its stdin closes (the bench ended, or died).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeFirst } from '@atcute/cbor'
import { WebSocketServer, type WebSocket } from 'ws'
import { readDocuments, readFrames } from './firehose-frames.js'

const HIGH_WATER = 1024 * 1024

async function replay(socket: WebSocket, frames: Buffer[], from: number): Promise<void> {
  for (const frame of frames.slice(from)) {
    if (socket.readyState !== socket.OPEN) return
    const written = new Promise<void>((resolve, reject) =>
      socket.send(frame, { binary: true }, (error) => (error ? reject(error) : resolve())),
    )
    written.catch(() => {}) // awaited only now and then; a failed send ends the loop below
    if (socket.bufferedAmount > HIGH_WATER) await written // callbacks run in order: all before it are out too
  }
  socket.close(1000)
}

const [framesFile, documentsFile] = process.argv.slice(2)
const frames = await readFrames(framesFile)
const documents = await readDocuments(documentsFile)
// Each frame's seq (its body's), to start after a cursor.
const seqs = frames.map((frame) => (decodeFirst(decodeFirst(frame)[1])[0] as { seq?: unknown }).seq)

const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  path: '/xrpc/com.atproto.sync.subscribeRepos',
  perMessageDeflate: false,
})
server.on('connection', (socket, request) => {
  socket.on('error', () => {}) // a consumer that hangs up early
  const cursor = new URL(request.url ?? '/', 'ws://replay').searchParams.get('cursor')
  const from = cursor ? seqs.findIndex((seq) => typeof seq === 'number' && seq > Number(cursor)) : 0
  replay(socket, frames, from < 0 ? frames.length : from).catch(() => socket.terminate())
})

const plc = createServer((request, response) => {
  const did = decodeURIComponent(new URL(request.url ?? '/', 'http://plc').pathname.slice(1))
  const document = request.method === 'GET' ? documents[did] : undefined
  if (document === undefined) {
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"DID not registered"}')
    return
  }
  response.writeHead(200, { 'content-type': 'application/did+ld+json' }).end(JSON.stringify(document))
})
plc.listen(0, '127.0.0.1')

await Promise.all([
  new Promise<void>((resolve) => server.once('listening', resolve)),
  new Promise<void>((resolve) => plc.once('listening', resolve)),
])
const port = (server.address() as AddressInfo).port
const plcPort = (plc.address() as AddressInfo).port
console.log(JSON.stringify({ port, plcPort }))
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.stdin.on('close', () => process.exit(0))

/**
 * The firehose bench's replay server, in its own process (pinned to another core than the consumer
 * where the machine allows): a loopback WebSocket server that, on each connection to
 * `/xrpc/com.atproto.sync.subscribeRepos`, sends every recorded frame as a binary message as fast as
 * the consumer takes them, then closes normally (1000). Backpressure: once more than
 * `HIGH_WATER` bytes wait in the socket's buffers it waits for them to be written, so a consumer
 * that pauses reading holds the server back instead of the server buffering the stream.
 * Prints `{"port":N}` once listening; exits when its stdin closes (the bench ended, or died).
 */
import { WebSocketServer, type WebSocket } from 'ws'
import { readFrames } from './firehose-frames.js'

const HIGH_WATER = 1024 * 1024

async function replay(socket: WebSocket, frames: Buffer[]): Promise<void> {
  for (const frame of frames) {
    if (socket.readyState !== socket.OPEN) return
    const written = new Promise<void>((resolve, reject) =>
      socket.send(frame, { binary: true }, (error) => (error ? reject(error) : resolve())),
    )
    written.catch(() => {}) // awaited only now and then; a failed send ends the loop below
    if (socket.bufferedAmount > HIGH_WATER) await written // callbacks run in order: all before it are out too
  }
  socket.close(1000)
}

const frames = await readFrames(process.argv[2])
const server = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  path: '/xrpc/com.atproto.sync.subscribeRepos',
  perMessageDeflate: false,
})
server.on('connection', (socket) => {
  socket.on('error', () => {}) // a consumer that hangs up early
  replay(socket, frames).catch(() => socket.terminate())
})
await new Promise<void>((resolve) => server.once('listening', resolve))
console.log(JSON.stringify({ port: (server.address() as { port: number }).port }))
process.stdin.resume()
process.stdin.on('end', () => process.exit(0))
process.stdin.on('close', () => process.exit(0))

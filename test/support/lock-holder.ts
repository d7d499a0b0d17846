// A process that takes a file backend's lock, says so to its parent, and then waits to be killed
// inside it (test/session-stores.test.ts: a holder that crashes without releasing).
import { FileBackend } from '../../src/session/stores/file.js'

const [file, name] = process.argv.slice(2)
await new FileBackend(file!, { lockLeaseMs: 300 }).lock(name!, async () => {
  process.send?.('holding')
  await new Promise(() => {}) // until SIGKILL
})

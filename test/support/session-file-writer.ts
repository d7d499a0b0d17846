// Child process for the FileSessionStore crash test (test/session.test.ts): writes a small session,
// says "ready", then overwrites it with big sessions (~8 MB each) in a loop until it is killed.
// Every session it writes is complete and self-consistent (`accessJwt`, `refreshJwt` and the
// padding all carry the same number), so a reader can tell a whole session from a torn one.
import { FileSessionStore } from '../../src/session/file-store.js'

const [path] = process.argv.slice(2)
if (!path) throw new Error('usage: session-file-writer.ts <path>')
const store = new FileSessionStore(path)

function crashSession(n: number, paddingBytes: number) {
  return {
    did: 'did:plc:crashtestcrashtestcrasht',
    handle: 'crash.test',
    accessJwt: `access-${n}`,
    refreshJwt: `refresh-${n}`,
    didDoc: { n, padding: String(n % 10).repeat(paddingBytes) },
  }
}

await store.set(crashSession(0, 16))
process.stdout.write('ready\n')
for (let n = 1; ; n++) await store.set(crashSession(n, 8 << 20))

/**
 * The namespaced API's proxies as values: printable, serialisable, and made per read so that reading
 * arbitrary names (`client.app[anything]`) leaves nothing behind.
 */
import { setFlagsFromString } from 'node:v8'
import { inspect } from 'node:util'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { createClient } from '../src/index.js'

// A client that sends nothing here: only its namespace tree is read.
const client = createClient({ service: 'http://127.0.0.1:9' }) as any

describe('namespaces as values', () => {
  it('serialise to their path, print as their label, and stay callable', () => {
    expect(JSON.stringify({ ns: client.app.bsky, roots: [client.com] })).toBe('{"ns":"app.bsky","roots":["com"]}')
    expect(String(client.app)).toBe('[namespace app]')
    expect(`${client.app.bsky.actor}`).toBe('[namespace app.bsky.actor]')
    expect(inspect(client.app.bsky)).toBe('[namespace app.bsky]')
    expect(inspect({ feed: client.app.bsky.feed })).toBe('{ feed: [namespace app.bsky.feed] }')
    expect(typeof client.app.bsky.actor.getProfile).toBe('function')
    expect(client.app.then, 'not a thenable').toBeUndefined()
  })

  it('keep nothing per name read: a namespace read once is garbage afterwards', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const read = new WeakRef(client.app[`x${Math.random().toString(36).slice(2)}`])
    // A WeakRef holds its target to the end of the current job.
    await new Promise((resolve) => setTimeout(resolve, 0))
    gc()
    expect(read.deref()).toBeUndefined()
  })
})

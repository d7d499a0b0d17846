/**
 * The bundled lexicon set as the namespaced client finds its entries: by namespace, then by name,
 * each loaded on first use. Checked against the lexicon JSON itself, so that no endpoint or record
 * of the set is missing from (or misfiled in) the namespace modules.
 */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { lexicons } from '../generated/client.js'
import { LexiconRegistry } from '../src/client/lexicon-registry.js'
import { Client, UsageError, XRPCClient } from '../src/index.js'
import { ObjectSchema } from '../src/runtime/index.js'
import { repoRoot } from './support/codegen.js'
import { entriesOf } from './support/lexicon-set.js'

/** Every lexicon document's main kind, where it has one a client uses. */
async function mainKinds(): Promise<Map<string, string>> {
  const dir = path.join(repoRoot, 'lexicons')
  const kinds = new Map<string, string>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue
    const doc = JSON.parse(await readFile(path.join(entry.parentPath, entry.name), 'utf8'))
    const kind = doc.defs?.main?.type
    if (['query', 'procedure', 'subscription', 'record'].includes(kind)) kinds.set(doc.id, kind)
  }
  return kinds
}

describe('the bundled set, by namespace', () => {
  it('lists every endpoint and record of the lexicons, under its own namespace and kind', async () => {
    const listed = new Map((await entriesOf(lexicons)).map(([nsid, kind]) => [nsid, kind as string]))
    const expected = await mainKinds()
    expect(expected.size).toBeGreaterThan(300)
    expect(new Map([...listed].sort())).toEqual(new Map([...expected].sort()))
  })

  it('resolves every NSID to its own descriptor or record schema', async () => {
    const registry = new LexiconRegistry([lexicons])
    let resolved = 0
    for (const [nsid, kind] of await entriesOf(lexicons)) {
      if (kind === 'record') {
        const schema = await registry.record(nsid)
        expect(schema, nsid).toBeInstanceOf(ObjectSchema)
        expect((schema as ObjectSchema<unknown>).typeId, nsid).toBe(nsid)
      } else if (kind !== 'subscription') {
        const endpoint = await registry.endpoint(nsid)!()
        expect([endpoint.nsid, endpoint.type], nsid).toEqual([nsid, kind])
      }
      resolved++
    }
    expect(resolved).toBeGreaterThan(300)
  })

  it('refuses an NSID its namespaces lack: at once when the namespace is unknown, on send when only the name is', async () => {
    let fetched = 0
    const client = new Client({ service: 'http://127.0.0.1:1', fetch: async () => (fetched++, new Response()) })
    expect(() => client.call('com.example.nothing')).toThrow(UsageError)
    const missing = await (client.call('app.bsky.actor.nothing', {}) as Promise<unknown>).catch((e: unknown) => e)
    expect(missing).toBeInstanceOf(UsageError)
    expect(String(missing)).toContain('Unknown XRPC method "app.bsky.actor.nothing"')
    // A record's NSID is no method, nor is a namespace itself.
    await expect(client.call('app.bsky.feed.post') as Promise<unknown>).rejects.toThrow('Unknown XRPC method')
    expect(() => (client as any).app.bsky.actor()).toThrow(UsageError)
    expect(fetched).toBe(0)
  })

  it('knows no record schema for a collection outside its namespaces, or not named in one', async () => {
    const registry = new LexiconRegistry([lexicons])
    expect(await registry.record('com.example.note')).toBeUndefined()
    expect(await registry.record('app.bsky.feed.nothing')).toBeUndefined()
    expect(await registry.record('app.bsky.feed.getTimeline')).toBeUndefined() // an endpoint, not a record
  })

  it('lets a later set define an NSID again, and keeps the earlier set for the rest of a shared namespace', async () => {
    const mine = {
      namespaces: {
        'app.bsky.actor': async () => ({
          entries: {
            getProfile: [
              'query',
              async () => ({ getProfile: { type: 'query', nsid: 'app.bsky.actor.getProfile', mine: true } }),
            ],
          },
        }),
      },
    } as never
    const registry = new LexiconRegistry([lexicons, mine])
    expect(await registry.endpoint('app.bsky.actor.getProfile')!()).toMatchObject({ mine: true })
    expect((await registry.endpoint('app.bsky.actor.getProfiles')!()).nsid).toBe('app.bsky.actor.getProfiles')
    // The lean client has no sets: calls by NSID need one.
    expect(() => new XRPCClient({ service: 'http://127.0.0.1:1' }).call('app.bsky.actor.getProfile')).toThrow(
      UsageError,
    )
  })
})

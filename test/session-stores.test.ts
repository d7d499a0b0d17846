import { fork } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { KeyValueBackend } from '../src/session/stores/backend.js'
import { LockTimeoutError } from '../src/session/stores/errors.js'
import { FileBackend } from '../src/session/stores/file.js'
import { MemoryBackend } from '../src/session/stores/memory.js'
import { PostgresBackend, PostgresSessionStore } from '../src/session/stores/postgres.js'
import { RedisBackend, RedisSessionStore } from '../src/session/stores/redis.js'
import { KeyedSessionStore } from '../src/session/stores/session-store.js'
import { describeAppview as describePostgres, postgresUrl } from './network/describe-appview.js'
import { connectRedis, describeRedis } from './network/redis.js'
import { repoRoot } from './support/codegen.js'

/**
 * The backends of the session stores against what they run on: memory, real files, a real Redis and
 * a real PostgreSQL (both set up by .ci/run; skipped with a notice elsewhere when absent). One
 * contract, checked on each: values with expiry, and a lock that excludes every other holder.
 */

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function session(did: string, handle: string, refreshExpSeconds = Math.floor(Date.now() / 1000) + 3600) {
  const jwt = (exp: number) =>
    `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: did, exp })).toString('base64url')}.sig`
  return {
    did,
    handle,
    email: `${handle}@mail.test`,
    accessJwt: jwt(refreshExpSeconds - 1800),
    refreshJwt: jwt(refreshExpSeconds),
    active: true,
  }
}

/**
 * `holders` contenders each take the lock and, inside it, read a counter, pause, and write it back
 * plus one: with a real lock none is lost, and no two are ever inside at once.
 */
async function contend(
  backends: KeyValueBackend[],
  holders: number,
  name: string,
): Promise<{ count: number; maxInside: number }> {
  let inside = 0
  let maxInside = 0
  await backends[0].delete(`counter:${name}`)
  await Promise.all(
    Array.from({ length: holders }, (_, i) =>
      backends[i % backends.length].lock(name, async () => {
        inside++
        maxInside = Math.max(maxInside, inside)
        const count = Number((await backends[i % backends.length].get(`counter:${name}`)) ?? 0)
        await pause(5)
        await backends[i % backends.length].set(`counter:${name}`, String(count + 1))
        inside--
      }),
    ),
  )
  return { count: Number(await backends[0].get(`counter:${name}`)), maxInside }
}

/** The contract every backend keeps; `make` gives independent backends on the same storage (separate connections). */
function backendContract(make: () => Promise<KeyValueBackend>) {
  let a: KeyValueBackend
  let b: KeyValueBackend
  beforeAll(async () => {
    a = await make()
    b = await make()
  })
  const unique = () => `k${Math.random().toString(36).slice(2)}`

  it('keeps values, replaces them, forgets them, and sees them from another connection', async () => {
    const key = unique()
    expect(await a.get(key)).toBeUndefined()
    await a.set(key, 'one')
    expect(await b.get(key)).toBe('one')
    await b.set(key, 'two')
    expect(await a.get(key)).toBe('two')
    await a.delete(key)
    expect(await b.get(key)).toBeUndefined()
  })

  it('forgets a value after its TTL', async () => {
    const key = unique()
    await a.set(key, 'brief', 100)
    await a.set(`${key}-kept`, 'kept')
    expect(await b.get(key)).toBe('brief')
    await pause(250)
    expect(await b.get(key)).toBeUndefined()
    expect(await b.get(`${key}-kept`)).toBe('kept')
  })

  it('lets one holder at a time in, across connections, and loses no update', async () => {
    const result = await contend([a, b], 12, unique())
    expect(result).toEqual({ count: 12, maxInside: 1 })
  })

  it('does not hold one name against another', async () => {
    const order: string[] = []
    await Promise.all([
      a.lock(unique(), async () => {
        await pause(100)
        order.push('slow')
      }),
      b.lock(unique(), async () => {
        order.push('fast')
      }),
    ])
    expect(order).toEqual(['fast', 'slow'])
  })

  it('releases the lock when the holder throws', async () => {
    const name = unique()
    await expect(a.lock(name, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(b.lock(name, async () => 'next', { waitMs: 2_000 })).resolves.toBe('next')
  })

  it('gives up waiting with a LockTimeoutError', async () => {
    const name = unique()
    let release!: () => void
    const held = a.lock(name, () => new Promise<void>((resolve) => (release = resolve)))
    await pause(50)
    await expect(b.lock(name, async () => 'never', { waitMs: 150 })).rejects.toBeInstanceOf(LockTimeoutError)
    release()
    await held
  })
}

describe('memory backend', () => {
  const shared = new MemoryBackend()
  backendContract(async () => shared)
})

describe('file backend', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blueskysdk-file-backend-'))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))
  backendContract(async () => new FileBackend(path.join(dir, 'nested', 'store.json'), { lockLeaseMs: 2_000 }))

  it('writes the file 0600 in a directory made 0700, and leaves no temporary or lock file behind', async () => {
    const file = path.join(dir, 'fresh', 'deeper', 'store.json')
    const backend = new FileBackend(file)
    await backend.set('a', 'secret-value')
    await backend.lock('x', async () => backend.set('b', '2'))
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700)
    expect(await readdir(path.dirname(file))).toEqual(['store.json'])
  })

  it('takes over the lock of a holder that died holding it, once its lease has passed', async () => {
    const file = path.join(dir, 'crash', 'store.json')
    const backend = new FileBackend(file, { lockLeaseMs: 300 })
    // A real process takes the lock and is killed inside it.
    const child = fork(path.join(repoRoot, 'test/support/lock-holder.ts'), [file, 'refresh:did:plc:crash'], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    })
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve())
      child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before holding the lock`)))
    })
    child.kill('SIGKILL')
    await new Promise((resolve) => child.once('exit', resolve))
    const locks = (await readdir(path.dirname(file))).filter((name) => name.endsWith('.lock'))
    expect(locks).toHaveLength(1) // the dead holder's lock file is there…
    await expect(backend.lock('refresh:did:plc:crash', async () => 'mine', { waitMs: 200 })).rejects.toBeInstanceOf(
      LockTimeoutError,
    ) // …and honoured while its lease may still be running
    await expect(backend.lock('refresh:did:plc:crash', async () => 'mine', { waitMs: 3_000 })).resolves.toBe('mine')
  })

  it('never takes a lock from a live holder, however long it works', async () => {
    const file = path.join(dir, 'live', 'store.json')
    const a = new FileBackend(file, { lockLeaseMs: 150 })
    const b = new FileBackend(file, { lockLeaseMs: 150 })
    const result = await contend([a, b], 2, 'slow')
    expect(result.maxInside).toBe(1)
    let inside = false
    const long = a.lock('long', async () => {
      inside = true
      await pause(600) // four leases: the heartbeat keeps it
      inside = false
    })
    await pause(20)
    await b.lock('long', async () => expect(inside).toBe(false))
    await long
  })

  it('moves a stale lock aside without removing a fresh one that replaced it', async () => {
    const file = path.join(dir, 'stale', 'store.json')
    const backend = new FileBackend(file, { lockLeaseMs: 200 })
    await backend.set('seed', '1')
    const lockFile = `${file}.lock`
    await writeFile(lockFile, JSON.stringify({ token: 'dead', pid: 1 }))
    const old = new Date(Date.now() - 60_000)
    await utimes(lockFile, old, old)
    await backend.set('after', '2') // takes the stale write lock over
    expect(await backend.get('after')).toBe('2')
    expect((await readdir(path.dirname(file))).filter((n) => n !== 'store.json')).toEqual([])
  })

  it('reads a one-session file of the previous release through its migration', async () => {
    const file = path.join(dir, 'legacy.json')
    const legacy = session('did:plc:legacy', 'legacy.test')
    await writeFile(file, JSON.stringify(legacy))
    const backend = new FileBackend(file, {
      migrate: (contents) => ({
        [`session:${(contents as { did: string }).did}`]: { value: JSON.stringify(contents) },
      }),
    })
    expect(JSON.parse((await backend.get('session:did:plc:legacy'))!)).toEqual(legacy)
    await backend.set('other', 'x') // rewritten in the current format, the old session kept
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ blueskysdk: 1 })
    expect(JSON.parse((await backend.get('session:did:plc:legacy'))!)).toEqual(legacy)
  })
})

describeRedis('redis backend', () => {
  const clients: Awaited<ReturnType<typeof connectRedis>>[] = []
  const prefix = `blueskysdk-test-${process.pid}-${Date.now()}:`
  afterAll(async () => {
    const [first] = clients
    if (first) {
      const keys = await first.keys(`${prefix}*`)
      if (keys.length) await first.del(keys)
    }
    await Promise.all(clients.map((client) => client.destroy()))
  })
  const connect = async () => {
    const client = await connectRedis()
    clients.push(client)
    return client
  }
  backendContract(async () => new RedisBackend(await connect(), { prefix }))

  it('releases only its own lock: a holder whose lease ran out leaves the next holder’s lock alone', async () => {
    const raw = await connect()
    const a = new RedisBackend(raw, { prefix, lockLeaseMs: 5_000 })
    let next: Promise<string> | undefined
    await a.lock('lease', async () => {
      await raw.del(`${prefix}lock:lease`) // as if the lease had run out while a worked
      next = new RedisBackend(await connect(), { prefix }).lock('lease', async () => {
        await pause(200)
        return 'b done'
      })
      await pause(50)
    })
    // a has released: b's lock must still be there.
    expect(await raw.get(`${prefix}lock:lease`)).not.toBeNull()
    await expect(next).resolves.toBe('b done')
    expect(await raw.get(`${prefix}lock:lease`)).toBeNull()
  })

  it('renews a lock while its holder works past the lease, and frees it after a holder that vanished', async () => {
    const a = new RedisBackend(await connect(), { prefix, lockLeaseMs: 150 })
    const b = new RedisBackend(await connect(), { prefix, lockLeaseMs: 150 })
    let inside = false
    const long = a.lock('renewed', async () => {
      inside = true
      await pause(600)
      inside = false
    })
    await pause(20)
    await b.lock('renewed', async () => expect(inside).toBe(false))
    await long

    const vanishing = await connectRedis()
    await new RedisBackend(vanishing, { prefix, lockLeaseMs: 300 })
      .lock('vanished', async () => {
        vanishing.destroy() // the process is gone: no release, no renewal
      })
      .catch(() => {})
    await expect(b.lock('vanished', async () => 'after the lease', { waitMs: 3_000 })).resolves.toBe('after the lease')
  })
})

describePostgres('postgres backend', () => {
  const pools: pg.Pool[] = []
  const table = `blueskysdk_test_${process.pid}`
  afterAll(async () => {
    await pools[0]?.query(`drop table if exists "${table}"`)
    await Promise.all(pools.map((pool) => pool.end()))
  })
  const pool = () => {
    const created = new pg.Pool({ connectionString: postgresUrl, max: 4 })
    created.on('error', () => {})
    pools.push(created)
    return created
  }
  backendContract(async () => new PostgresBackend(pool(), { table }))

  it('frees the lock at once when the holder’s connection dies', async () => {
    const a = new PostgresBackend(pool(), { table })
    const b = new PostgresBackend(pool(), { table })
    const killer = pool()
    const held = a
      .lock('crash', async () => {
        // The holder's backend process is terminated, as when its machine goes away.
        await killer.query(
          `select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and pid <> pg_backend_pid()`,
        )
        await pause(100)
      })
      .catch(() => 'holder lost its connection')
    await pause(30)
    await expect(b.lock('crash', async () => 'next', { waitMs: 5_000 })).resolves.toBe('next')
    await held
  })

  it('refuses a table name that is not one', () => {
    expect(() => new PostgresBackend(pool(), { table: 'x; drop table y' })).toThrow(/table name/)
  })
})

describe('sessions keyed by DID', () => {
  it('holds many accounts, found by DID, handle or email, and the last stored when none is named', async () => {
    const store = new KeyedSessionStore(new MemoryBackend())
    const alice = session('did:plc:alice', 'alice.test')
    const bob = session('did:plc:bob', 'bob.test')
    await store.set(alice)
    await store.set(bob)
    expect(await store.get('did:plc:alice')).toEqual(alice)
    expect(await store.get('ALICE.test')).toEqual(alice)
    expect(await store.get('bob.test@mail.test')).toEqual(bob)
    expect(await store.get()).toEqual(bob)
    expect(await store.get('carol.test')).toBeUndefined()
    await store.delete('bob.test')
    expect(await store.get('did:plc:bob')).toBeUndefined()
    expect(await store.get()).toBeUndefined()
    expect(await store.get('alice.test')).toEqual(alice)
  })

  it('seals tokens at rest with the app’s key, and a value under another key reads as absent', async () => {
    const backend = new MemoryBackend()
    const key = crypto.getRandomValues(new Uint8Array(32))
    const sealed = new KeyedSessionStore(backend, { encryptionKey: key })
    const alice = session('did:plc:alice', 'alice.test')
    await sealed.set(alice)
    const raw = (await backend.get('session:did:plc:alice'))!
    expect(raw).not.toContain(alice.refreshJwt)
    expect(raw).not.toContain('alice.test')
    expect(await sealed.get('alice.test')).toEqual(alice)
    const otherKey = new KeyedSessionStore(backend, {
      encryptionKey: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64'),
    })
    expect(await otherKey.get('did:plc:alice')).toBeUndefined()
    await backend.set('session:did:plc:alice', raw.slice(0, -4) + 'AAAA') // tampered
    expect(await sealed.get('did:plc:alice')).toBeUndefined()
    expect(() => new KeyedSessionStore(backend, { encryptionKey: 'too short' })).toThrow(/32 bytes/)
  })

  it('lets a stored session expire a day after its refresh token', async () => {
    const backend = new MemoryBackend()
    const store = new KeyedSessionStore(backend)
    const dead = session('did:plc:old', 'old.test', Math.floor(Date.now() / 1000) - 2 * 24 * 3600)
    await store.set(dead)
    await pause(5) // kept for a millisecond at most
    expect(await store.get('did:plc:old')).toBeUndefined()
    const live = session('did:plc:live', 'live.test')
    await store.set(live)
    await pause(5)
    expect(await store.get('did:plc:live')).toEqual(live)
  })

  describeRedis('on Redis', () => {
    it('keeps sessions under the prefix with a TTL past the refresh token', async () => {
      const client = await connectRedis()
      const prefix = `blueskysdk-test-s-${process.pid}:`
      try {
        const store = new RedisSessionStore({ client, prefix })
        const alice = session('did:plc:alice', 'alice.test')
        await store.set(alice)
        expect(await store.get('alice.test')).toEqual(alice)
        const ttl = await client.pTTL(`${prefix}session:did:plc:alice`)
        expect(ttl).toBeGreaterThan(3600_000)
        expect(ttl).toBeLessThanOrEqual(3600_000 + 24 * 3600_000)
        expect(JSON.stringify(store)).toBe(JSON.stringify({ type: 'RedisSessionStore', prefix }))
      } finally {
        const keys = await client.keys(`${prefix}*`)
        if (keys.length) await client.del(keys)
        await client.destroy()
      }
    })
  })

  describePostgres('on PostgreSQL', () => {
    it('creates its table, and keeps sessions there', async () => {
      const pool = new pg.Pool({ connectionString: postgresUrl })
      const table = `blueskysdk_test_s_${process.pid}`
      try {
        const store = new PostgresSessionStore({ pool, table })
        const alice = session('did:plc:alice', 'alice.test')
        await store.set(alice)
        expect(await new PostgresSessionStore({ pool, table }).get('alice.test@mail.test')).toEqual(alice)
        const { rows } = await pool.query(`select key from "${table}" order by key`)
        expect(rows.map((r) => r.key)).toEqual([
          'account:alice.test',
          'account:alice.test@mail.test',
          'current',
          'session:did:plc:alice',
        ])
      } finally {
        await pool.query(`drop table if exists "${table}"`)
        await pool.end()
      }
    })
  })
})

describe('OAuth stores on the same backend', () => {
  it('keeps sessions sealed, states briefly, and locks by name', async () => {
    const backend = new MemoryBackend()
    const store = new KeyedSessionStore(backend, { encryptionKey: crypto.getRandomValues(new Uint8Array(32)) })
    const { sessionStore, stateStore, requestLock } = store.oauthStores({ stateTtlMs: 100 })
    const saved = { dpopJwk: { kty: 'EC', d: 'private-part' }, tokenSet: { access_token: 'at', refresh_token: 'rt' } }
    await sessionStore.set('did:plc:alice', saved)
    expect(await sessionStore.get('did:plc:alice')).toEqual(saved)
    expect(await backend.get('oauth-session:did:plc:alice')).not.toContain('private-part')
    await sessionStore.del('did:plc:alice')
    expect(await sessionStore.get('did:plc:alice')).toBeUndefined()

    await stateStore.set('state-1', { verifier: 'v' })
    expect(await stateStore.get('state-1')).toEqual({ verifier: 'v' })
    await pause(200)
    expect(await stateStore.get('state-1')).toBeUndefined()

    let inside = 0
    let most = 0
    await Promise.all(
      Array.from({ length: 5 }, () =>
        requestLock('refresh', async () => {
          most = Math.max(most, ++inside)
          await pause(5)
          inside--
        }),
      ),
    )
    expect(most).toBe(1)
  })
})

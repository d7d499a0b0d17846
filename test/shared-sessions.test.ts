import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, type SessionData, type SessionStore } from '../src/index.js'
import { FileSessionStore, PostgresSessionStore, RedisSessionStore } from '../src/node.js'
import { postgresProblem, postgresUrl } from './network/postgres.js'
import { connectRedis, redisUrl } from './network/redis.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { repoRoot } from './support/codegen.js'
import { startRefreshProxy } from './support/refresh-proxy.js'

/**
 * Sessions shared by processes, against the real PDS: worker processes resuming one stored session
 * at once through each shared store (a file, Redis, PostgreSQL) refresh it once between them, behind
 * a proxy that makes refresh tokens single-use; and a refresh whose answer is lost is recovered
 * with the same token instead of a password login.
 */

const CREATE = 'com.atproto.server.createSession'
const REFRESH = 'com.atproto.server.refreshSession'
const WORKERS = 3

let network: TestNetwork
let scratch: string
beforeAll(async () => {
  network = await startNetwork()
  scratch = await mkdtemp(path.join(os.tmpdir(), 'shared-sessions-'))
})
afterAll(async () => {
  await network?.close()
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

/** A fresh session of the account with its access token expired (signed by the PDS): the next use must refresh. */
async function expiredSession(account: Account): Promise<SessionData> {
  const res = await fetch(`${network.pdsUrl}/xrpc/${REFRESH}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${account.refreshJwt}` },
  })
  const live = (await res.json()) as SessionData
  if (!res.ok) throw new Error(`refresh for ${account.handle}: ${res.status}`)
  return { ...live, accessJwt: network.reissueToken(live.accessJwt, Math.floor(Date.now() / 1000) - 60) }
}

/** Starts the workers, lets them go at once, and gives what each printed. */
async function runWorkers(service: string, kind: string, where: string, account: Account): Promise<SessionData[]> {
  const worker = path.join(repoRoot, 'test/support/shared-session-worker.ts')
  const children = Array.from({ length: WORKERS }, () =>
    spawn(process.execPath, ['--import', 'tsx', worker, service, kind, where, account.handle, account.password], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  )
  const outputs = children.map((child) => {
    let text = ''
    child.stdout!.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const ready = new Promise<void>((resolve) => {
      const check = () => (text.includes('ready\n') ? resolve() : undefined)
      child.stdout!.on('data', check)
    })
    const done = new Promise<string>((resolve, reject) =>
      child.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`worker exited with ${code}`)))),
    )
    return { ready, done }
  })
  await Promise.all(outputs.map((output) => output.ready))
  for (const child of children) child.stdin!.end('go\n')
  const texts = await Promise.all(outputs.map((output) => output.done))
  return texts.map((text) => JSON.parse(text.split('\n').find((line) => line.startsWith('{'))!) as SessionData)
}

interface SharedStore {
  kind: 'file' | 'redis' | 'postgres'
  problem?: string
  /** The store, in this process, and where the workers find it. */
  open(): Promise<{ store: SessionStore; where: string; close(): Promise<void> }>
}

const stores: SharedStore[] = [
  {
    kind: 'file',
    async open() {
      const file = path.join(scratch, `sessions-${Math.random().toString(36).slice(2)}.json`)
      return { store: new FileSessionStore(file), where: file, close: async () => {} }
    },
  },
  {
    kind: 'redis',
    problem: await connectRedis().then(
      async (client) => void (await client.destroy()),
      (error: Error) => `no Redis at ${redisUrl}: ${error.message}`,
    ),
    async open() {
      const client = await connectRedis()
      const prefix = `blueskysdk-shared-${process.pid}-${Date.now()}:`
      return {
        store: new RedisSessionStore({ client, prefix }),
        where: `${redisUrl}#${prefix}`,
        close: async () => {
          const keys = await client.keys(`${prefix}*`)
          if (keys.length) await client.del(keys)
          client.destroy()
        },
      }
    },
  },
  {
    kind: 'postgres',
    problem: postgresProblem,
    async open() {
      const pool = new pg.Pool({ connectionString: postgresUrl })
      const table = `blueskysdk_shared_${process.pid}_${Date.now()}`
      return {
        store: new PostgresSessionStore({ pool, table }),
        where: `${postgresUrl}#${table}`,
        close: async () => {
          await pool.query(`drop table if exists "${table}"`)
          await pool.end()
        },
      }
    },
  },
]

describe('worker processes sharing one stored session', () => {
  for (const shared of stores) {
    const skip = shared.problem !== undefined && process.env.CI !== 'true'
    if (skip) console.warn(`[skipped] ${shared.kind} store: ${shared.problem}`)
    it.skipIf(skip)(
      `${shared.kind}: ${WORKERS} processes resuming an expired session refresh it once, behind single-use refresh tokens`,
      async () => {
        expect(shared.problem).toBeUndefined()
        const account = await network.createAccount()
        const proxy = await startRefreshProxy(network.pdsUrl, { singleUse: true })
        const { store, where, close } = await shared.open()
        try {
          await store.set(await expiredSession(account))
          const results = await runWorkers(proxy.url, shared.kind, where, account)

          expect(proxy.count(REFRESH)).toBe(1) // one worker refreshed; the others adopted its session
          expect(proxy.count(CREATE)).toBe(0) // and no one needed the password
          expect(results.map((r) => r.did)).toEqual(Array(WORKERS).fill(account.did))
          expect(new Set(results.map((r) => r.refreshJwt)).size).toBe(1)
          expect((await store.get(account.handle))?.refreshJwt).toBe(results[0].refreshJwt)
        } finally {
          await close()
          await proxy.close()
        }
      },
    )
  }
})

describe('a refresh whose answer is lost', () => {
  it('is sent again with the same token within the grace period, and no password login follows', async () => {
    const account = await network.createAccount()
    const proxy = await startRefreshProxy(network.pdsUrl, { dropRefreshAnswers: 1 })
    try {
      const client = new Client({ service: proxy.url, retry: { backoffLimitMs: 50 } })
      const saved = await expiredSession(account)
      const session = await client.authenticate(account.handle, account.password, saved)

      expect(proxy.hits.filter((hit) => hit.nsid === REFRESH).map((hit) => hit.status)).toEqual([0, 200])
      expect(proxy.count(CREATE)).toBe(0)
      expect(session.refreshJwt).not.toBe(saved.refreshJwt)
      expect((await client.com.atproto.server.getSession()).did).toBe(account.did)
      // What the repeated refresh got is the live token chain: it refreshes again.
      await client.com.atproto.server.refreshSession()
      expect(proxy.hits.filter((hit) => hit.nsid === REFRESH).map((hit) => hit.status)).toEqual([0, 200, 200])
      expect(proxy.count(CREATE)).toBe(0)
    } finally {
      await proxy.close()
    }
  })
})

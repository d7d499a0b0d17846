// A real, local AT Protocol network started in-process for tests and the demo:
// PLC (in-memory) + PDS (SQLite in a temp dir), and with `appview: true` also the Bluesky AppView
// and Ozone (PostgreSQL). Built on @atproto/dev-env, which wires these together as the atproto
// repo's own tests do; ./listen-guard keeps every server on 127.0.0.1.
import './listen-guard.js'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { TestNetworkNoAppView } from '@atproto/dev-env/dist/network-no-appview.js'
import type { PdsConfig } from '@atproto/dev-env/dist/types.js'

export { boundServers } from './listen-guard.js'

export interface NetworkOptions {
  /** Also start the AppView (and Ozone); needs PostgreSQL, see ./postgres.ts and ./describe-appview.ts. */
  appview?: boolean
  /** The PDS's real rate limits (e.g. a 429 on the 31st createSession in 5 minutes). */
  rateLimits?: boolean
}

export interface Account {
  did: string
  handle: string
  email: string
  password: string
  accessJwt: string
  refreshJwt: string
}

export interface OzoneService {
  url: string
  /** The labeler's DID: the `src` of its labels. */
  did: string
  /** An `authorization` header for a call of `lxm` as Ozone's moderator (or admin, triage). */
  modHeaders(lxm: string, role?: 'admin' | 'moderator' | 'triage'): Promise<{ authorization: string }>
  /** The DID calls made with modHeaders act as. */
  moderatorDid: string
}

export interface TestNetwork {
  pdsUrl: string
  plcUrl: string
  appviewUrl?: string
  /** With the AppView: Ozone, a real labeler (its label stream, and its moderation API as a moderator). */
  ozone?: OzoneService
  /** The PDS's HS256 secret for access and refresh tokens, e.g. to mint expired ones. */
  jwtSecret: string
  /** The temp dir holding the PDS's SQLite files and blobs; close() removes it. */
  dataDir: string
  /** com.atproto.server.createAccount over plain fetch; `name` (3–18 chars) gives handle `name.test`. */
  createAccount(name?: string): Promise<Account>
  /** Waits until the PDS's background work and, with the AppView, its indexing have caught up. */
  processAll(): Promise<void>
  /** `token` re-signed with the server's secret and another `exp` (Unix seconds): to make sessions expire. */
  reissueToken(token: string, exp: number): string
  /**
   * Sets how far back the PDS's firehose replays (PDS_REPO_BACKFILL_LIMIT_MS, a day by default;
   * `undefined` restores that) while it runs: a cursor older than that gets `#info OutdatedCursor`.
   */
  setRepoBackfillLimit(ms: number | undefined): void
  /** Stops every server, drops the AppView's schemas and removes the temp dir; idempotent. */
  close(): Promise<void>
}

let accounts = 0

export async function startNetwork(options: NetworkOptions = {}): Promise<TestNetwork> {
  const jwtSecret = randomBytes(32).toString('hex')
  const pdsConfig: Partial<PdsConfig> = { jwtSecret, rateLimitsEnabled: options.rateLimits ?? false }
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'atproto-network-'))
  // Each network's own PostgreSQL schemas (dev-env adds appview_/ozone_ prefixes); letters only.
  const schema = `net_${Array.from(randomBytes(10), (b) => String.fromCharCode(97 + (b % 26))).join('')}`

  // dev-env puts each PDS's SQLite files and blobs in fresh dirs under os.tmpdir() and never
  // removes them: point os.tmpdir() at our temp dir while it starts, so close() removes them all.
  const previousTmpdir = process.env.TMPDIR
  process.env.TMPDIR = tempDir
  let network: TestNetworkNoAppView
  let appviewUrl: string | undefined
  let ozone: OzoneService | undefined
  let postgres: typeof import('./postgres.js') | undefined
  const cleanUp = async () => {
    try {
      if (postgres?.postgresUrl)
        await postgres.dropSchemas(postgres.postgresUrl, [`appview_${schema}`, `ozone_${schema}`])
    } finally {
      await rm(tempDir, { recursive: true, force: true })
    }
  }
  try {
    if (options.appview) {
      // Loaded only here: the probe, and the AppView and Ozone packages (a second to import).
      postgres = await import('./postgres.js')
      const { postgresUrl, postgresProblem } = postgres
      if (!postgresUrl) throw new Error(`startNetwork({ appview: true }): ${postgresProblem}`)
      process.env.REDIS_HOST ||= 'unused' // dev-env insists on it; nothing here uses Redis
      const { TestNetwork } = await import('@atproto/dev-env/dist/network.js')
      const withAppview = await TestNetwork.create({
        dbPostgresUrl: postgresUrl,
        dbPostgresSchema: schema,
        pds: pdsConfig,
      })
      appviewUrl = withAppview.bsky.url
      const testOzone = withAppview.ozone
      ozone = {
        url: testOzone.url,
        did: testOzone.ctx.cfg.service.did,
        modHeaders: (lxm, role) => testOzone.modHeaders(lxm, role),
        moderatorDid: testOzone.moderatorAccnt.did,
      }
      network = withAppview
    } else {
      network = await TestNetworkNoAppView.create({
        pds: {
          ...pdsConfig,
          // The PDS stores app.bsky preferences itself once an AppView is configured; these
          // addresses are never reached for that. Other app.bsky reads fail fast on loopback.
          bskyAppViewUrl: 'http://localhost:9',
          bskyAppViewDid: 'did:example:no-appview',
          modServiceUrl: 'http://localhost:9',
        },
      })
    }
  } catch (error) {
    await cleanUp().catch(() => {})
    throw error
  } finally {
    if (previousTmpdir === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = previousTmpdir
  }

  const pdsUrl = network.pds.url
  const defaultBackfillLimitMs = network.pds.ctx.cfg.subscription.repoBackfillLimitMs
  let closing: Promise<void> | undefined
  return {
    pdsUrl,
    plcUrl: network.plc.url,
    appviewUrl,
    ozone,
    jwtSecret,
    dataDir: tempDir,
    async createAccount(name = `user${++accounts}${randomBytes(3).toString('hex')}`) {
      const account = { handle: `${name}.test`, email: `${name}@example.com`, password: `${name}-password` }
      const res = await fetch(`${pdsUrl}/xrpc/com.atproto.server.createAccount`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(account),
      })
      const body = (await res.json()) as { did: string; accessJwt: string; refreshJwt: string }
      if (!res.ok) throw new Error(`createAccount ${name}: ${res.status} ${JSON.stringify(body)}`)
      return { ...account, did: body.did, accessJwt: body.accessJwt, refreshJwt: body.refreshJwt }
    },
    processAll: () => network.processAll(),
    reissueToken: (token, exp) => reissueToken(token, exp, jwtSecret),
    setRepoBackfillLimit(ms) {
      network.pds.ctx.cfg.subscription.repoBackfillLimitMs = ms ?? defaultBackfillLimitMs
    },
    close() {
      closing ??= network.close().finally(cleanUp)
      return closing
    },
  }
}

function reissueToken(token: string, exp: number, secret: string): string {
  const [header, payload] = token.split('.')
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
  const body = Buffer.from(JSON.stringify({ ...claims, exp })).toString('base64url')
  const signature = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url')
  return `${header}.${body}.${signature}`
}

// A real XRPC service for an app's own lexicons (test/lexicons/com/example/*.json), built with
// @atproto/xrpc-server as a third-party AT Protocol service would be, with its own did:plc on the
// test network's PLC so a PDS can resolve it and proxy to it (`atproto-proxy: <did>#example_service`).
//
//   com.example.getNote     query      notes kept in memory; unknown id → 400 NoteNotFound
//   com.example.createNote  procedure  needs a service-auth JWT (aud = this DID, lxm = the NSID)
//   com.example.echo        procedure  no auth; answers { params, input } as received
//
// The server listens on 127.0.0.1 (../network/listen-guard also forces loopback for any other
// server in the process).
import '../network/listen-guard.js'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { Secp256k1Keypair } from '@atproto/crypto'
import { IdResolver } from '@atproto/identity'
import {
  AuthRequiredError,
  InvalidRequestError,
  XRPCError,
  createServer,
  verifyJwt,
  type HandlerInput,
  type Server,
} from '@atproto/xrpc-server'
import * as plc from '@did-plc/lib'
import { repoRoot } from './paths.js'

/** The lexicon documents this server implements (and the SDK's generator consumes). */
export const exampleLexiconDir = path.join(repoRoot, 'test/lexicons/com/example')

/** The files generating them writes: their own modules only (the bundled strongRef they refer to is imported). */
export const exampleGeneratedFiles = [
  '.blueskysdk-codegen',
  'client.ts',
  'com/example/_namespace.ts',
  'com/example/createNote.ts',
  'com/example/defs.ts',
  'com/example/echo.ts',
  'com/example/getNote.ts',
  'com/example/note.ts',
  'lexicons.ts',
  'namespaces.ts',
]

/** The service entry in the server's DID document; proxy to it with `atproto-proxy: <did>#example_service`. */
export const EXAMPLE_SERVICE_FRAGMENT = 'example_service'
export const EXAMPLE_SERVICE_TYPE = 'ExampleService'

/**
 * Ways getNote can break its own lexicon (response validation is off while one is set, so the
 * invalid body really goes out):
 * - `'title-not-string'`: `note.title` is the number 42;
 * - `'missing-status'`: the required `status` is left out.
 *
 * While misbehaving, getNote answers for any id (with a made-up note if the id is unknown).
 */
export type ExampleMisbehavior = 'title-not-string' | 'missing-status'

export interface ExampleRequests {
  /** Requests for `nsid` (any HTTP method, valid or not) that reached the server since start or reset(). */
  count(nsid: string): number
  /** Every NSID's count, e.g. `{ 'com.example.echo': 2 }`. */
  counts(): Record<string, number>
  /** The headers of the last request for `nsid` (lower-case names, as node:http gives them). */
  lastHeaders(nsid: string): IncomingHttpHeaders | undefined
}

export interface ExampleServer {
  /** e.g. `http://127.0.0.1:PORT`; XRPC at `${url}/xrpc/com.example.getNote`. */
  url: string
  /** The server's did:plc (the audience of service-auth tokens for it). */
  did: string
  /** `${did}#example_service`: the value for an `atproto-proxy` header. */
  serviceId: string
  requests: ExampleRequests
  /** Clears `requests` (not the stored notes). */
  reset(): void
  /** Makes getNote answer with a body that violates its lexicon; `undefined` restores. */
  misbehave(mode: ExampleMisbehavior | undefined): void
  close(): Promise<void>
}

interface StoredNote {
  /** As `com.example.defs#noteView`. */
  note: { title: string; body?: string; tags?: string[]; createdAt: string }
  status: 'draft' | 'published'
  /** The names of the HTTP headers createNote arrived with, answered by getNote as `headers`. */
  headers: string[]
}

type LexiconDocs = NonNullable<Parameters<typeof createServer>[0]>

/** The lexicon documents in test/lexicons/com/example, parsed. */
export function loadExampleLexicons(): LexiconDocs {
  return readdirSync(exampleLexiconDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(path.join(exampleLexiconDir, name), 'utf8'))) as LexiconDocs
}

/** A new did:plc on the PLC at `plcUrl`, whose #atproto signing key (and rotation key) is a new keypair. */
export async function registerPlcIdentity(
  plcUrl: string,
  services: Record<string, { type: string; endpoint: string }> = {},
): Promise<{ did: string; keypair: Secp256k1Keypair }> {
  const keypair = await Secp256k1Keypair.create()
  const op = await plc.signOperation(
    {
      type: 'plc_operation',
      verificationMethods: { atproto: keypair.did() },
      rotationKeys: [keypair.did()],
      alsoKnownAs: [],
      services,
      prev: null,
    },
    keypair,
  )
  const did = await plc.didForCreateOp(op)
  await new plc.Client(plcUrl).sendOperation(did, op)
  return { did, keypair }
}

export async function startExampleServer(options: { plcUrl: string }): Promise<ExampleServer> {
  // The server resolves refs itself: add the bundled lexicon the example ones refer to.
  const strongRef = JSON.parse(readFileSync(path.join(repoRoot, 'lexicons/com/atproto/repo/strongRef.json'), 'utf8'))
  const lexicons = [...loadExampleLexicons(), strongRef] as LexiconDocs
  const idResolver = new IdResolver({ plcUrl: options.plcUrl })
  const notes = new Map<string, StoredNote>()
  let counts = new Map<string, number>()
  let lastHeaders = new Map<string, IncomingHttpHeaders>()
  let misbehavior: ExampleMisbehavior | undefined
  let did = '' // set once the DID is registered, before the server is handed out

  const getSigningKey = async (iss: string, forceRefresh: boolean): Promise<string> => {
    // A `did#fragment` issuer would be a service signing with another key than #atproto: not supported.
    if (iss.includes('#')) throw new AuthRequiredError(`unsupported jwt issuer ${iss}`, 'BadJwtIss')
    try {
      return await idResolver.did.resolveAtprotoKey(iss, forceRefresh)
    } catch (cause) {
      throw new AuthRequiredError(`could not resolve the signing key of ${iss}`, 'BadJwtIss', { cause })
    }
  }

  // Service auth as the AT Protocol specifies it: the PDS (or getServiceAuth) signs a JWT with the
  // user's #atproto key, aud = this service's bare DID, lxm = the method called.
  const serviceAuth = async ({ req }: { req: { headers: IncomingHttpHeaders } }) => {
    const authorization = req.headers.authorization
    if (!authorization) throw new AuthRequiredError('service auth required', 'AuthMissing')
    if (!authorization.startsWith('Bearer ')) throw new AuthRequiredError('expected a Bearer token', 'BadJwt')
    const jwt = authorization.slice('Bearer '.length).trim()
    try {
      const payload = await verifyJwt(jwt, did, 'com.example.createNote', getSigningKey)
      return { credentials: { did: payload.iss } }
    } catch (error) {
      // verifyJwt lets e.g. a JSON.parse error of a malformed header through, which would be a 500.
      if (error instanceof XRPCError) throw error
      throw new AuthRequiredError('poorly formatted jwt', 'BadJwt', { cause: error })
    }
  }

  const build = (validateResponse: boolean): Server => {
    const server = createServer(lexicons, { validateResponse })

    server.method('com.example.getNote', {
      handler: ({ params }) => {
        const id = String(params.id)
        const stored = notes.get(id)
        if (misbehavior) {
          const note = stored?.note ?? {
            title: 'made up',
            createdAt: new Date(0).toISOString(),
          }
          const body =
            misbehavior === 'title-not-string'
              ? { id, note: { ...note, title: 42 }, status: stored?.status ?? 'draft' }
              : { id, note }
          return { encoding: 'application/json', body }
        }
        if (!stored) throw new InvalidRequestError(`no note with id ${id}`, 'NoteNotFound')
        return {
          encoding: 'application/json',
          body: { id, note: stored.note, status: stored.status, headers: stored.headers },
        }
      },
    })

    server.method('com.example.createNote', {
      auth: serviceAuth,
      handler: ({ input, req }) => {
        const { title, body, tags } = (input as HandlerInput).body as { title: string; body?: string; tags?: string[] }
        const id = nextTid()
        notes.set(id, {
          note: {
            title,
            ...(body === undefined ? {} : { body }),
            ...(tags === undefined ? {} : { tags }),
            createdAt: new Date().toISOString(),
          },
          status: 'draft',
          headers: Object.keys((req as { headers: IncomingHttpHeaders }).headers).sort(),
        })
        return { encoding: 'application/json', body: { id, status: 'draft' } }
      },
    })

    server.method('com.example.echo', {
      handler: ({ params, input }) => ({
        encoding: 'application/json',
        body: { params: { ...params }, input: { ...((input as HandlerInput | undefined)?.body as object) } },
      }),
    })
    return server
  }
  // xrpc-server decides on response validation per route when it is added, so the misbehaving
  // mode is a second server with the same handlers and state but `validateResponse: false`.
  const strict = build(true)
  const lax = build(false)

  const http = createHttpServer((req, res) => {
    const nsid = /^\/xrpc\/([^/?#]+)/.exec(req.url ?? '')?.[1]
    if (nsid) {
      counts.set(nsid, (counts.get(nsid) ?? 0) + 1)
      lastHeaders.set(nsid, { ...req.headers })
    }
    const app = (misbehavior ? lax : strict).router as unknown as (
      req: import('node:http').IncomingMessage,
      res: import('node:http').ServerResponse,
    ) => void
    app(req, res)
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(0, '127.0.0.1', () => {
      http.off('error', reject)
      resolve()
    })
  })
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
  const close = async () => {
    if (!http.listening) return
    await new Promise<void>((resolve, reject) => {
      http.close((error) => (error ? reject(error) : resolve()))
      http.closeAllConnections() // e.g. the PDS's keep-alive proxy connections
    })
  }

  try {
    // The server's identity: a did:plc whose #atproto key is its own and whose #example_service
    // endpoint is this server, registered on the test network's PLC.
    ;({ did } = await registerPlcIdentity(options.plcUrl, {
      [EXAMPLE_SERVICE_FRAGMENT]: { type: EXAMPLE_SERVICE_TYPE, endpoint: url },
    }))
  } catch (error) {
    await close()
    throw error
  }

  return {
    url,
    did,
    serviceId: `${did}#${EXAMPLE_SERVICE_FRAGMENT}`,
    requests: {
      count: (nsid) => counts.get(nsid) ?? 0,
      counts: () => Object.fromEntries(counts),
      lastHeaders: (nsid) => lastHeaders.get(nsid),
    },
    reset() {
      counts = new Map()
      lastHeaders = new Map()
    },
    misbehave(mode) {
      misbehavior = mode
    },
    close,
  }
}

// Record keys for new notes: TIDs (53 bits of microseconds since the epoch, 10 bits of clock id,
// base32-sortable), strictly increasing within the process.
const TID_CHARS = '234567abcdefghijklmnopqrstuvwxyz'
let lastTidMicros = 0
function nextTid(): string {
  lastTidMicros = Math.max(Date.now() * 1000, lastTidMicros + 1)
  let value = (BigInt(lastTidMicros) << 10n) | BigInt(Math.floor(Math.random() * 1024))
  let out = ''
  for (let i = 0; i < 13; i++) {
    out = TID_CHARS[Number(value & 31n)] + out
    value >>= 5n
  }
  return out
}

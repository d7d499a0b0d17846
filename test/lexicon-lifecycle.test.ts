/**
 * The lexicon lifecycle through the generator's CLI, against real parts: an account on the local
 * PDS publishes a com.example set (`blueskysdk-codegen publish`), a real DNS server (dnsmasq on
 * loopback) serves `_lexicon.example.com` naming the account, and `pull` resolves the set through
 * DNS, the local PLC and the PDS into files and a lockfile of the CIDs the PDS reports (and the
 * records' content hashes to); `--check` and `update` follow a change; the pulled set is generated
 * and its client writes a record of it.
 * Also `lexicons:sync --from DIR`, on a temp copy of lexicons/.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, PasswordSession, ValidationError } from '../src/index.js'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { repoRoot, tempDir } from './support/codegen.js'
import { type DnsServer, dnsmasqProblem, startDnsServer } from './support/dns-server.js'

const execFileAsync = promisify(execFile)
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx')
const cli = path.join(repoRoot, 'codegen/cli.ts')

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** Runs a command to its end; its exit code, never a throw. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileAsync(tsx, args, { env: { ...process.env, ...env }, cwd: repoRoot })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string }
    return { code, stdout, stderr }
  }
}

const codegen = (args: string[], env?: NodeJS.ProcessEnv) => run([cli, ...args], env)

const skip = dnsmasqProblem !== undefined && process.env.CI !== 'true'
if (skip) console.warn(`[skipped] lexicon lifecycle tests: ${dnsmasqProblem}`)

const SCHEMA = 'com.atproto.lexicon.schema'

// The set: a record referring to a def of the set and to a com.atproto one (bundled: not pulled).
const defs = {
  lexicon: 1,
  id: 'com.example.defs',
  defs: {
    tag: {
      type: 'object',
      required: ['name'],
      properties: { name: { type: 'string', maxLength: 32 } },
    },
  },
}
const bookmark = {
  lexicon: 1,
  id: 'com.example.bookmark',
  description: 'A saved link to a record.',
  defs: {
    main: {
      type: 'record',
      key: 'tid',
      record: {
        type: 'object',
        required: ['subject', 'createdAt'],
        properties: {
          subject: { type: 'ref', ref: 'com.atproto.repo.strongRef' },
          tags: { type: 'array', maxLength: 4, items: { type: 'ref', ref: 'com.example.defs#tag' } },
          createdAt: { type: 'string', format: 'datetime' },
        },
      },
    },
  },
}
// Other authorities the account publishes for: example.org's TXT record names someone else, example.net's no DID.
const status = {
  lexicon: 1,
  id: 'org.example.status',
  defs: { main: { type: 'object', properties: { text: { type: 'string' } } } },
}
const ping = { lexicon: 1, id: 'net.example.ping', defs: { main: { type: 'query' } } }

let network: TestNetwork
let account: Account
let dns: DnsServer
let work: string
let client: Client
let session: PasswordSession

async function writeDocuments(dir: string, documents: { id: string; [key: string]: unknown }[]): Promise<void> {
  for (const doc of documents) {
    const file = path.join(dir, ...doc.id.split('.')) + '.json'
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, JSON.stringify(doc, null, 2))
  }
}

/** The account's lexicon records, as the PDS lists them. */
async function published(): Promise<Map<string, { uri: string; cid: string; value: Record<string, unknown> }>> {
  const page = await client.com.atproto.repo.listRecords({ repo: account.did, collection: SCHEMA })
  return new Map(
    page.records.map((r) => [
      r.uri.split('/').pop()!,
      { uri: r.uri, cid: r.cid, value: r.value as Record<string, unknown> },
    ]),
  )
}

const withoutType = ({ $type, ...doc }: Record<string, unknown>) => {
  expect($type).toBe(SCHEMA)
  return doc
}

interface LyingPds {
  url: string
  /** getRecord calls it answered. */
  records: number
  /** Pass records on as the PDS gave them. */
  honest: boolean
  close(): Promise<void>
}

/**
 * A loopback server that is the account's PLC directory (its real document, the PDS endpoint
 * pointed here) and its PDS: XRPC calls go to the real PDS, getRecord's answers through `getRecord`.
 */
async function startLyingPds(getRecord: (url: string) => Promise<unknown>): Promise<LyingPds> {
  const liar: LyingPds = { url: '', records: 0, honest: false, close: async () => {} }
  const server = http.createServer((request, response) => {
    const url = request.url ?? '/'
    const answer = async (): Promise<unknown> => {
      if (url === `/${account.did}`) {
        const doc = (await (await fetch(`${network.plcUrl}/${account.did}`)).json()) as {
          service: { id: string; serviceEndpoint: string }[]
        }
        for (const service of doc.service) if (service.id === '#atproto_pds') service.serviceEndpoint = liar.url
        return doc
      }
      if (url.startsWith('/xrpc/com.atproto.repo.getRecord?')) {
        liar.records++
        return liar.honest ? (await fetch(new URL(url, network.pdsUrl))).json() : getRecord(url)
      }
      return (await fetch(new URL(url, network.pdsUrl))).json()
    }
    answer().then(
      (body) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)),
      () => response.writeHead(502).end(),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  liar.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  liar.close = () => new Promise((resolve) => server.close(() => resolve()))
  return liar
}

function viaTestNetwork(args: string[]): string[] {
  return [...args, '--plc', network.plcUrl, '--dns', dns.address]
}

const publish = (dir: string, extra: string[] = []) =>
  codegen(['publish', dir, '--service', network.pdsUrl, '--dns', dns.address, ...extra], {
    BLUESKY_IDENTIFIER: account.handle,
    BLUESKY_PASSWORD: account.password,
  })

beforeAll(async () => {
  if (skip) return
  network = await startNetwork()
  account = await network.createAccount()
  dns = await startDnsServer({
    '_lexicon.example.com': `did=${account.did}`,
    '_lexicon.example.org': 'did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
    // A TXT record, but no did= one (dnsmasq, with no upstream, refuses names it has nothing for).
    '_lexicon.example.net': 'v=none',
  })
  session = new PasswordSession({ service: network.pdsUrl })
  await session.authenticate(account.handle, account.password)
  client = new Client({ service: network.pdsUrl, auth: session })
  work = await tempDir()
})
afterAll(async () => {
  await dns?.close()
  await network?.close()
})

describe.skipIf(skip)('publish, pull, check and update lexicons', () => {
  it('publish writes each document as a com.atproto.lexicon.schema record and prints the TXT records', async () => {
    await writeDocuments(path.join(work, 'mine'), [defs, bookmark, status, ping])
    const result = await publish(path.join(work, 'mine'))
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const records = await published()
    expect([...records.keys()].sort()).toEqual([
      'com.example.bookmark',
      'com.example.defs',
      'net.example.ping',
      'org.example.status',
    ])
    expect(withoutType(records.get('com.example.bookmark')!.value)).toEqual(bookmark)
    expect(withoutType(records.get('com.example.defs')!.value)).toEqual(defs)
    for (const [nsid, { uri, cid }] of records) expect(result.stdout).toContain(`published ${nsid} ${uri} ${cid}`)
    expect(result.stdout).toContain(`_lexicon.example.com TXT "did=${account.did}"  (com.example.*: present)`)
    expect(result.stdout).toContain(
      `_lexicon.example.org TXT "did=${account.did}"  (org.example.*: wrong: it names did:plc:aaaaaaaaaaaaaaaaaaaaaaaa)`,
    )
    expect(result.stdout).toContain(`_lexicon.example.net TXT "did=${account.did}"  (net.example.*: missing)`)
    // Never the password, never a token.
    expect(result.stdout + result.stderr).not.toContain(account.password)
    expect(result.stdout + result.stderr).not.toMatch(/eyJ[\w-]+\./)

    // Again: nothing to write, each reported unchanged, the same CIDs.
    const again = await publish(path.join(work, 'mine'))
    expect(again.code).toBe(0)
    for (const nsid of records.keys()) expect(again.stdout).toContain(`unchanged ${nsid}`)
    expect([...(await published()).values()].map((r) => r.cid)).toEqual([...records.values()].map((r) => r.cid))
  })

  it('publish refuses an invalid document by file and JSON path, and writes nothing', async () => {
    const dir = path.join(work, 'invalid')
    const broken = {
      ...bookmark,
      id: 'com.example.broken',
      defs: {
        main: {
          ...bookmark.defs.main,
          record: {
            ...bookmark.defs.main.record,
            properties: { ...bookmark.defs.main.record.properties, tags: { type: 'ref', ref: '#missing' } },
          },
        },
      },
    }
    await writeDocuments(dir, [{ ...defs, id: 'com.example.fine' }, broken])
    const before = await published()
    const result = await publish(dir)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(
      `${path.join(dir, 'com/example/broken.json')}: $.defs.main.record.properties.tags.ref: unresolvable ref: #missing`,
    )
    expect(result.stderr).toContain('Nothing was written.')
    expect(result.stdout).toBe('')
    expect([...(await published()).keys()]).toEqual([...before.keys()])
  })

  it('publish: a missing password is a usage error (exit 2, one line)', async () => {
    const result = await codegen(['publish', path.join(work, 'mine'), '--service', network.pdsUrl], {
      BLUESKY_IDENTIFIER: account.handle,
      BLUESKY_PASSWORD: '',
    })
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(result.stderr).toContain('BLUESKY_PASSWORD')
  })

  it('pull and update: usage mistakes are one line and exit 2', async () => {
    for (const [args, message] of [
      [['pull', 'not-an-nsid'], 'pull: not-an-nsid is neither an NSID nor an authority.* pattern'],
      [['pull', 'com.example.*', '--dns', 'dns.example.com:53'], '--dns dns.example.com:53: say an IP address'],
      [['update', '--check'], '--check goes with pull'],
    ] as const) {
      const result = await codegen([...args, '--out', path.join(work, 'usage/lexicons')])
      expect(result.code).toBe(2)
      expect(result.stderr.trim().split('\n')).toHaveLength(1)
      expect(result.stderr).toContain(message)
    }
    await expect(readdir(path.join(work, 'usage'))).rejects.toThrow()
  })

  let starOut: string
  let starLock: string

  it('pull by NSID follows refs to the set (not to the bundled lexicons) and pins the CIDs the PDS reports', async () => {
    const out = path.join(work, 'one/lexicons')
    const result = await codegen(viaTestNetwork(['pull', 'com.example.bookmark', '--out', out]))
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect((await readdir(out, { recursive: true })).sort()).toEqual([
      'com',
      'com/example',
      'com/example/bookmark.json',
      'com/example/defs.json',
    ])
    expect(JSON.parse(await readFile(path.join(out, 'com/example/bookmark.json'), 'utf8'))).toEqual(bookmark)
    expect(JSON.parse(await readFile(path.join(out, 'com/example/defs.json'), 'utf8'))).toEqual(defs)
    // The lockfile, by default beside the folder: what was asked for, and each record's CID.
    const records = await published()
    const pin = (nsid: string) => ({ did: account.did, uri: records.get(nsid)!.uri, cid: records.get(nsid)!.cid })
    expect(JSON.parse(await readFile(path.join(work, 'one/lexicons.lock.json'), 'utf8'))).toEqual({
      lockfileVersion: 1,
      pull: ['com.example.bookmark'],
      lexicons: { 'com.example.bookmark': pin('com.example.bookmark'), 'com.example.defs': pin('com.example.defs') },
    })
    expect(result.stdout).toContain('added com.example.bookmark')
    expect(result.stdout).toContain('added com.example.defs')
  })

  it('pull by authority.* takes that authority’s lexicons only; the files and lockfile are deterministic', async () => {
    starOut = path.join(work, 'star/pulled')
    starLock = path.join(work, 'star/pins.json')
    const first = await codegen(viaTestNetwork(['pull', 'com.example.*', '--out', starOut, '--lock', starLock]))
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect((await readdir(starOut, { recursive: true })).filter((f) => f.endsWith('.json')).sort()).toEqual([
      'com/example/bookmark.json',
      'com/example/defs.json',
    ])
    const files = async () =>
      Promise.all(
        [starLock, ...['bookmark', 'defs'].map((n) => path.join(starOut, `com/example/${n}.json`))].map((f) =>
          readFile(f, 'utf8'),
        ),
      )
    const bytes = await files()
    // The same documents from the by-NSID pull: the same bytes.
    expect(bytes[1]).toBe(await readFile(path.join(work, 'one/lexicons/com/example/bookmark.json'), 'utf8'))
    expect(bytes[2]).toBe(await readFile(path.join(work, 'one/lexicons/com/example/defs.json'), 'utf8'))
    expect(JSON.parse(bytes[0]).pull).toEqual(['com.example.*'])

    // Pulling again with nothing new: nothing added, every byte the same.
    const second = await codegen(viaTestNetwork(['pull', '--out', starOut, '--lock', starLock]))
    expect(second.code).toBe(0)
    expect(second.stdout).not.toContain('added')
    expect(await files()).toEqual(bytes)
  })

  it('--check passes, then names a document its authority changed; update takes it and says so', async () => {
    const check = () => codegen(viaTestNetwork(['pull', '--check', '--out', starOut, '--lock', starLock]))
    const ok = await check()
    expect(ok.stderr).toBe('')
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain(`2 lexicons match ${starLock}`)

    const oldCid = (await published()).get('com.example.defs')!.cid
    const lockBefore = await readFile(starLock, 'utf8')
    const fileBefore = await readFile(path.join(starOut, 'com/example/defs.json'), 'utf8')
    const changed = structuredClone(defs) as typeof defs & { description?: string }
    changed.defs.tag.properties = { ...changed.defs.tag.properties, color: { type: 'string', maxLength: 7 } } as never
    await writeDocuments(path.join(work, 'mine'), [changed])
    const republished = await publish(path.join(work, 'mine'))
    expect(republished.code).toBe(0)
    expect(republished.stdout).toContain('updated com.example.defs')
    expect(republished.stdout).toContain('unchanged com.example.bookmark')
    const newCid = (await published()).get('com.example.defs')!.cid
    expect(newCid).not.toBe(oldCid)

    const failed = await check()
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(`com.example.defs: pinned ${oldCid}, published ${newCid}`)
    expect(failed.stderr).not.toContain('com.example.bookmark')
    // --check writes nothing; nor does a plain pull, which does not move pins.
    const refused = await codegen(viaTestNetwork(['pull', '--out', starOut, '--lock', starLock]))
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`changed com.example.defs (${oldCid} → ${newCid})`)
    expect(await readFile(starLock, 'utf8')).toBe(lockBefore)
    expect(await readFile(path.join(starOut, 'com/example/defs.json'), 'utf8')).toBe(fileBefore)

    const update = await codegen(viaTestNetwork(['update', '--out', starOut, '--lock', starLock]))
    expect(update.stderr).toBe('')
    expect(update.code).toBe(0)
    expect(update.stdout).toContain(`changed com.example.defs (${oldCid} → ${newCid})`)
    expect(update.stdout).not.toContain('com.example.bookmark')
    expect(JSON.parse(await readFile(path.join(starOut, 'com/example/defs.json'), 'utf8'))).toEqual(changed)
    expect(JSON.parse(await readFile(starLock, 'utf8')).lexicons['com.example.defs'].cid).toBe(newCid)
    expect((await check()).code).toBe(0)
  })

  it('--check names a file edited by hand', async () => {
    const file = path.join(starOut, 'com/example/bookmark.json')
    const original = await readFile(file, 'utf8')
    await writeFile(file, original.replace('A saved link', 'An edited link'))
    const result = await codegen(viaTestNetwork(['pull', '--check', '--out', starOut, '--lock', starLock]))
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`com.example.bookmark: ${file} differs from the published document`)
    await writeFile(file, original)
  })

  it('pull of an NSID its authority does not publish, or of one published by an account DNS does not name, fails, writing nothing', async () => {
    const out = path.join(work, 'none/lexicons')
    const result = await codegen(viaTestNetwork(['pull', 'com.example.nothing', '--out', out]))
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`com.example.nothing: ${account.did} publishes no such lexicon`)
    // The account publishes org.example.status, but example.org's DNS names another DID: DNS decides.
    const other = await codegen(viaTestNetwork(['pull', 'org.example.status', '--out', out]))
    expect(other.code).toBe(1)
    expect(other.stderr).toContain('No DID document for did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')
    await expect(readdir(path.join(work, 'none'))).rejects.toThrow()
  })

  it('pull refuses a record whose content does not hash to the CID its PDS gives, writing nothing', async () => {
    // A PDS that lies, which a real one cannot be made to do: a loopback server standing in for the
    // PLC (the account's real document, its PDS endpoint pointed at this server) and for the PDS (the
    // real one's answers, but the bookmark lexicon's description changed under the same CID).
    const liar = await startLyingPds(async (url) => {
      const answer = await fetch(new URL(url, network.pdsUrl))
      const body = (await answer.json()) as { value?: { description?: string } }
      if (url.includes('rkey=com.example.bookmark') && body.value) body.value.description = 'Changed in transit.'
      return body
    })
    try {
      const out = path.join(work, 'lied/lexicons')
      const args = ['pull', 'com.example.bookmark', '--out', out, '--plc', liar.url, '--dns', dns.address]
      const result = await codegen(args)
      expect(result.code).toBe(1)
      const cid = (await published()).get('com.example.bookmark')!.cid
      expect(result.stderr).toMatch(
        new RegExp(
          `com\\.example\\.bookmark: at://${account.did}/${SCHEMA}/com\\.example\\.bookmark does not hash to the CID the PDS gave \\(${cid}, not b[a-z2-7]+\\)`,
        ),
      )
      expect(liar.records).toBeGreaterThan(0) // the pull did go through the liar
      await expect(readdir(path.join(work, 'lied'))).rejects.toThrow()
      // The same server passing the record on unchanged is believed: the check is of the content.
      liar.honest = true
      const honest = await codegen(args)
      expect(honest.stderr).toBe('')
      expect(honest.code).toBe(0)
      expect(JSON.parse(await readFile(path.join(out, 'com/example/bookmark.json'), 'utf8'))).toEqual(bookmark)
    } finally {
      await liar.close()
    }
  })

  it('pull asks for the lexicons it needs at once, not one after another', async () => {
    // The stand-in PDS holds each getRecord answer until a second is asked for (a pull asking one at
    // a time gets its answer after 3 s instead), and counts how many it held at once.
    let held = 0
    let most = 0
    let release = () => {}
    const secondAsked = new Promise<void>((resolve) => (release = resolve))
    const liar = await startLyingPds(async (url) => {
      most = Math.max(most, ++held)
      if (held === 2) release()
      await Promise.race([secondAsked, delay(3_000)])
      held--
      return (await fetch(new URL(url, network.pdsUrl))).json()
    })
    try {
      const out = path.join(work, 'together/lexicons')
      const roots = ['com.example.bookmark', 'com.example.defs']
      const result = await codegen(['pull', ...roots, '--out', out, '--plc', liar.url, '--dns', dns.address])
      expect(result.stderr).toBe('')
      expect(result.code).toBe(0)
      expect(liar.records).toBe(2) // bookmark's ref to defs was already being pulled: not asked twice
      expect(most).toBe(2)
      const records = await published()
      for (const nsid of roots) {
        const file = path.join(out, ...nsid.split('.')) + '.json'
        expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(withoutType(records.get(nsid)!.value))
      }
    } finally {
      await liar.close()
    }
  })

  it('the pulled set generates, and its client writes a record of it validated against the pulled lexicon', async () => {
    const out = path.join(work, 'generated')
    const result = await codegen([
      '--lexicons',
      starOut,
      '--out',
      out,
      '--runtime',
      path.join(repoRoot, 'src/runtime/index.ts'),
      '--client',
      path.join(repoRoot, 'src/index.ts'),
      '--bundled',
      path.join(repoRoot, 'generated'),
      '--no-format',
    ])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('com.atproto.repo.strongRef') // imported from the bundled modules
    const { createClient } = (await import(path.join(out, 'client.ts'))) as {
      createClient(options: Record<string, unknown>): any
    }
    const app = createClient({ service: network.pdsUrl, auth: session })
    const subject = (await published()).get('com.example.defs')!
    const record = {
      $type: 'com.example.bookmark',
      subject: { uri: subject.uri, cid: subject.cid },
      tags: [{ name: 'lexicon', color: '#00ff00' }],
      createdAt: new Date().toISOString(),
    }
    // The pulled defs (with `color` since the update) check the record before it is sent.
    const tooLong = { ...record, tags: [{ name: 'x', color: '#00ff00ff' }] }
    const refused = await app.com.atproto.repo
      .createRecord({ repo: account.did, collection: 'com.example.bookmark', record: tooLong })
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ValidationError)
    const created = await app.com.atproto.repo.createRecord({
      repo: account.did,
      collection: 'com.example.bookmark',
      record,
    })
    const read = await app.com.atproto.repo.getRecord({
      repo: account.did,
      collection: 'com.example.bookmark',
      rkey: created.uri.split('/').pop(),
    })
    expect(read.value).toEqual(record)
    const all = await client.com.atproto.repo.listRecords({ repo: account.did, collection: 'com.example.bookmark' })
    expect(all.records).toHaveLength(1) // the refused one was never sent
  })
})

describe('lexicons:sync --from', () => {
  it('merges a folder of published lexicons over @atproto/api’s, reporting what it adds and changes', async () => {
    const dir = await tempDir()
    const out = path.join(dir, 'lexicons')
    const from = path.join(dir, 'from')
    await cp(path.join(repoRoot, 'lexicons'), out, { recursive: true })
    const schema = JSON.parse(await readFile(path.join(repoRoot, 'lexicons/com/atproto/lexicon/schema.json'), 'utf8'))
    schema.defs.main.description = 'A newer description.'
    const added = { lexicon: 1, id: 'com.example.synced', defs: { main: { type: 'token' } } }
    await writeDocuments(from, [schema, added])
    const repoFile = await readFile(path.join(repoRoot, 'lexicons/com/atproto/lexicon/schema.json'), 'utf8')

    const result = await run([path.join(repoRoot, 'scripts/sync-lexicons.ts'), '--from', from, '--out', out])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain(`--from ${from}: 2 documents (1 replacing a copy from before)`)
    expect(result.stdout).toContain('added (1):\n  com.example.synced\n')
    expect(result.stdout).toContain('changed (1):\n  com.atproto.lexicon.schema\n')
    expect(result.stdout).not.toContain('removed')
    expect(JSON.parse(await readFile(path.join(out, 'com/atproto/lexicon/schema.json'), 'utf8'))).toEqual(schema)
    expect(JSON.parse(await readFile(path.join(out, 'com/example/synced.json'), 'utf8'))).toEqual(added)
    // The repository's own folder is untouched.
    expect(await readFile(path.join(repoRoot, 'lexicons/com/atproto/lexicon/schema.json'), 'utf8')).toBe(repoFile)
    await expect(readFile(path.join(repoRoot, 'lexicons/com/example/synced.json'))).rejects.toThrow()

    // A folder whose document the generator refuses: named, and nothing written.
    const bad = path.join(dir, 'bad')
    await writeDocuments(bad, [{ ...added, id: 'com.example.bad', defs: { main: { type: 'ref', ref: '#x' } } }])
    const before = await readdir(out, { recursive: true })
    const refused = await run([path.join(repoRoot, 'scripts/sync-lexicons.ts'), '--from', bad, '--out', out])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`${path.join(bad, 'com/example/bad.json')}: $.defs.main`)
    expect(refused.stderr).toContain('Nothing was written.')
    expect(await readdir(out, { recursive: true })).toEqual(before)
    await rm(bad, { recursive: true })
  })
})

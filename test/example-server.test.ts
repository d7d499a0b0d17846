/**
 * The example XRPC service (test/support/example-server.ts) against a real PLC and PDS, with plain
 * fetch: its errors, its echo, its service auth (tokens from getServiceAuth and tokens the PDS mints
 * when it proxies) and its misbehaving mode.
 */
import { Secp256k1Keypair } from '@atproto/crypto'
import { createServiceJwt } from '@atproto/xrpc-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Account, startNetwork, type TestNetwork } from './network/index.js'
import { type ExampleServer, registerPlcIdentity, startExampleServer } from './support/example-server.js'

let network: TestNetwork | undefined
let server: ExampleServer | undefined
let alice: Account

beforeAll(async () => {
  network = await startNetwork()
  server = await startExampleServer({ plcUrl: network.plcUrl })
  alice = await network.createAccount('alice')
})
afterAll(async () => {
  await server?.close()
  await network?.close()
})

const net = () => network!
const example = () => server!

async function call(url: string, init: RequestInit = {}) {
  const res = await fetch(url, init)
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : undefined }
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, any>

async function serviceAuth(aud: string, lxm: string): Promise<string> {
  const query = new URLSearchParams({ aud, lxm })
  const res = await call(`${net().pdsUrl}/xrpc/com.atproto.server.getServiceAuth?${query}`, {
    headers: { authorization: `Bearer ${alice.accessJwt}` },
  })
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body!.token as string
}

describe('the example server', () => {
  it('is registered on the PLC with its #example_service endpoint', async () => {
    const doc = await call(`${net().plcUrl}/${example().did}`)
    expect(doc.status).toBe(200)
    expect(example().serviceId).toBe(`${example().did}#example_service`)
    expect(doc.body!.service).toEqual([
      { id: '#example_service', type: 'ExampleService', serviceEndpoint: example().url },
    ])
    expect(doc.body!.verificationMethod).toEqual([
      expect.objectContaining({ id: expect.stringMatching(/#atproto$/), publicKeyMultibase: expect.any(String) }),
    ])
  })

  it('answers getNote of an unknown id with 400 NoteNotFound', async () => {
    example().reset()
    const res = await call(`${example().url}/xrpc/com.example.getNote?id=3kznotthere22`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'NoteNotFound' })
    expect(example().requests.count('com.example.getNote')).toBe(1)
    expect(example().requests.count('com.example.createNote')).toBe(0)
  })

  it('validates params against the lexicon', async () => {
    const res = await call(`${example().url}/xrpc/com.example.getNote?id=${encodeURIComponent('not/a key')}`)
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'InvalidRequest' })
  })

  it('echoes params and input whose names look like builder methods', async () => {
    const input = {
      options: 'o',
      headers: 'h',
      params: 'p',
      input: 'i',
      signal: 's',
      send: 'se',
      then: 't',
      catch: 'c',
      toJSON: 'j',
    }
    const res = await postJson(`${example().url}/xrpc/com.example.echo?then=1&send=2`, input, { 'x-test': 'echo' })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ params: { then: '1', send: '2' }, input })
    expect(example().requests.lastHeaders('com.example.echo')?.['x-test']).toBe('echo')
  })

  it('refuses createNote without a token (401), with another audience or another method', async () => {
    example().reset()
    const missing = await postJson(`${example().url}/xrpc/com.example.createNote`, { title: 'no token' })
    expect(missing.status).toBe(401)
    expect(missing.body).toMatchObject({ error: 'AuthMissing' })

    const garbage = await postJson(
      `${example().url}/xrpc/com.example.createNote`,
      { title: 'bad token' },
      { authorization: 'Bearer not.a.jwt' },
    )
    expect(garbage.status).toBe(401)

    const wrongAud = await serviceAuth('did:web:elsewhere.test', 'com.example.createNote')
    const audRes = await postJson(
      `${example().url}/xrpc/com.example.createNote`,
      { title: 'another service' },
      { authorization: `Bearer ${wrongAud}` },
    )
    expect(audRes).toMatchObject({ status: 401, body: { error: 'BadJwtAudience' } })

    const wrongLxm = await serviceAuth(example().did, 'com.example.echo')
    const lxmRes = await postJson(
      `${example().url}/xrpc/com.example.createNote`,
      { title: 'other method' },
      { authorization: `Bearer ${wrongLxm}` },
    )
    expect(lxmRes).toMatchObject({ status: 401, body: { error: 'BadJwtLexiconMethod' } })
    expect(example().requests.count('com.example.createNote')).toBe(4)
  })

  it("accepts a token from the user's PDS (getServiceAuth) and stores the note", async () => {
    const token = await serviceAuth(example().did, 'com.example.createNote')
    expect(claims(token)).toMatchObject({ iss: alice.did, aud: example().did, lxm: 'com.example.createNote' })

    const created = await postJson(
      `${example().url}/xrpc/com.example.createNote`,
      { title: 'Hello', body: 'first note', tags: ['a', 'b'] },
      { authorization: `Bearer ${token}` },
    )
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(created.body).toEqual({ id: expect.stringMatching(/^[2-7a-z]{13}$/), status: 'draft' })

    const read = await call(`${example().url}/xrpc/com.example.getNote?id=${created.body!.id}`)
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({
      id: created.body!.id,
      status: 'draft',
      note: { title: 'Hello', body: 'first note', tags: ['a', 'b'] },
      headers: expect.arrayContaining(['authorization', 'content-type']),
    })
    expect(Date.parse(read.body!.note.createdAt)).not.toBeNaN()
  })

  it('wants aud = its bare DID, not did#example_service, and checks the signature against PLC', async () => {
    // An issuer of our own on the PLC (this PDS's getServiceAuth only takes a bare DID as aud).
    const { did: iss, keypair } = await registerPlcIdentity(net().plcUrl)
    const lxm = 'com.example.createNote'
    const send = async (token: string) =>
      postJson(`${example().url}/xrpc/${lxm}`, { title: 'own issuer' }, { authorization: `Bearer ${token}` })

    const withFragment = await send(await createServiceJwt({ iss, aud: example().serviceId, lxm, keypair }))
    expect(withFragment).toMatchObject({ status: 401, body: { error: 'BadJwtAudience' } })

    const otherKey = await Secp256k1Keypair.create()
    const forged = await send(await createServiceJwt({ iss, aud: example().did, lxm, keypair: otherKey }))
    expect(forged).toMatchObject({ status: 401, body: { error: 'BadJwtSignature' } })

    const good = await send(await createServiceJwt({ iss, aud: example().did, lxm, keypair }))
    expect(good).toMatchObject({ status: 200, body: { status: 'draft' } })
  })

  it('validates input against the lexicon (title over 100 graphemes)', async () => {
    const token = await serviceAuth(example().did, 'com.example.createNote')
    const res = await postJson(
      `${example().url}/xrpc/com.example.createNote`,
      { title: 'x'.repeat(101) },
      { authorization: `Bearer ${token}` },
    )
    expect(res.status).toBe(400)
    expect(res.body).toMatchObject({ error: 'InvalidRequest' })
  })

  it('is reached through the PDS proxy (atproto-proxy), with a service token the PDS mints', async () => {
    example().reset()
    const created = await postJson(
      `${net().pdsUrl}/xrpc/com.example.createNote`,
      { title: 'Proxied' },
      { authorization: `Bearer ${alice.accessJwt}`, 'atproto-proxy': example().serviceId },
    )
    expect(created.status, JSON.stringify(created.body)).toBe(200)
    expect(created.body).toMatchObject({ status: 'draft' })
    expect(example().requests.count('com.example.createNote')).toBe(1)

    // What the PDS sent: aud is the bare DID (not did#example_service), lxm the called method.
    const authorization = example().requests.lastHeaders('com.example.createNote')?.authorization
    expect(authorization).toMatch(/^Bearer /)
    expect(claims(authorization!.slice(7))).toMatchObject({
      iss: alice.did,
      aud: example().did,
      lxm: 'com.example.createNote',
    })

    const read = await call(`${net().pdsUrl}/xrpc/com.example.getNote?id=${created.body!.id}`, {
      headers: { authorization: `Bearer ${alice.accessJwt}`, 'atproto-proxy': example().serviceId },
    })
    expect(read.status).toBe(200)
    expect(read.body).toMatchObject({ id: created.body!.id, note: { title: 'Proxied' } })
    expect(example().requests.count('com.example.getNote')).toBe(1)
  })

  it('sends bodies that violate the lexicon while misbehaving', async () => {
    try {
      example().misbehave('title-not-string')
      const wrongType = await call(`${example().url}/xrpc/com.example.getNote?id=3kznotthere22`)
      expect(wrongType.status).toBe(200)
      expect(wrongType.body!.note.title).toBe(42)
      expect(wrongType.body!.status).toBe('draft')

      example().misbehave('missing-status')
      const missing = await call(`${example().url}/xrpc/com.example.getNote?id=3kznotthere22`)
      expect(missing.status).toBe(200)
      expect(missing.body).toMatchObject({ id: '3kznotthere22', note: { title: 'made up' } })
      expect(missing.body).not.toHaveProperty('status')
    } finally {
      example().misbehave(undefined)
    }
    const restored = await call(`${example().url}/xrpc/com.example.getNote?id=3kznotthere22`)
    expect(restored).toMatchObject({ status: 400, body: { error: 'NoteNotFound' } })
  })
})

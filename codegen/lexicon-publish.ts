import { stat } from 'node:fs/promises'
import { parseCommandArgs } from './arguments.js'
import { BUNDLED_LEXICONS_DIR } from './bundled.js'
import { authorityOf, didsOfTxt, lexiconTxtName, printable, SCHEMA_COLLECTION } from './lexicon-authority.js'
import { documentText } from './lexicon-files.js'
import { type LexiconSource, loadLexicons, readLexiconDir } from './load.js'
import { checkNetworkOptions, NETWORK_OPTIONS } from './network-options.js'
import { loadSdk, MissingSdkError, type Sdk, type SdkClient, type TxtLookup } from './sdk.js'

const USAGE = `Usage: blueskysdk-codegen publish DIR [options]

Publishes every lexicon document in DIR as a com.atproto.lexicon.schema record of your account
(record key: the NSID), after checking them all with the generator's parser (nothing is written if
one is invalid). Unchanged records are left as they are. Then prints the DNS TXT record each
authority needs (_lexicon.<domain> "did=<your DID>") and whether it is there.

  --service URL      the PDS to log in at (default: the one the identifier's DID document names)
  --identifier X     handle, DID or email (default: $BLUESKY_IDENTIFIER)
  --password X       an app password (default: $BLUESKY_PASSWORD; prefer it: arguments show in ps)
  --lexicons DIR     other lexicons the documents refer to (repeatable)
  --no-bundled       refs to the lexicons bundled with blueskysdk do not resolve by themselves
  --plc URL          the PLC directory for did:plc (default: https://plc.directory)
  --dns HOST:PORT    DNS server for checking the TXT records (repeatable; default: the system's)
  -h, --help         print this help`

export async function lexiconPublish(argv: string[], usage: (message: string) => Error): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'publish',
    argv,
    {
      service: { type: 'string' },
      identifier: { type: 'string' },
      password: { type: 'string' },
      ...NETWORK_OPTIONS,
    },
    usage,
  )
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  if (positionals.length !== 1) throw usage('publish: name one folder of lexicon documents')
  const [dir] = positionals
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw usage(`publish ${dir}: no such folder`)
  await checkNetworkOptions(values, usage)
  if (values.service !== undefined && !/^https?:\/\//.test(values.service))
    throw usage(`--service ${values.service}: not an http(s) URL`)
  const identifier = values.identifier ?? process.env.BLUESKY_IDENTIFIER
  const password = values.password ?? process.env.BLUESKY_PASSWORD
  if (!identifier) throw usage('publish: no account: set BLUESKY_IDENTIFIER or give --identifier')
  if (!password) throw usage('publish: no password: set BLUESKY_PASSWORD (an app password) or give --password')

  // Every document checked before logging in: an invalid one stops the run with nothing written.
  const sources = await readLexiconDir(dir)
  if (!sources.length) throw usage(`publish: ${dir} holds no *.json documents`)
  const documents = validate(
    sources,
    (await Promise.all(values.lexicons.map(readLexiconDir))).flat(),
    values['no-bundled'] ? [] : await readLexiconDir(BUNDLED_LEXICONS_DIR),
  )

  let sdk: Sdk
  try {
    sdk = await loadSdk()
  } catch (error) {
    if (!(error instanceof MissingSdkError)) throw error
    console.error(`blueskysdk-codegen: ${error.message}`)
    return 1
  }
  const txt = sdk.nodeDnsTxt(values.dns ? { servers: values.dns } : {})
  const session = new sdk.PasswordSession({
    service: values.service,
    identity: new sdk.IdentityResolver({ plcUrl: values.plc, txt }),
  })
  try {
    await session.authenticate(identifier, password)
  } catch (error) {
    // The SDK's messages carry neither the password nor tokens; the server's part is made printable.
    console.error(
      `blueskysdk-codegen: could not log in as ${printable(identifier)}: ${printable((error as Error).message)}`,
    )
    return 1
  }
  try {
    const did = session.did!
    const client = new sdk.Client({ service: values.service, auth: session })
    console.log(`Publishing ${documents.length} lexicon${documents.length === 1 ? '' : 's'} as ${did}:`)
    let failed = 0
    for (const { id, json } of documents) {
      try {
        console.log(`  ${await publishOne(client, did, id, json)}`)
      } catch (error) {
        failed++
        console.error(`  ${id}: not published: ${printable((error as Error).message)}`)
      }
    }
    await printTxtRecords(
      txt,
      did,
      documents.map((d) => authorityOf(d.id)),
    )
    return failed ? 1 : 0
  } finally {
    await session.logout().catch(() => {})
  }
}

interface Document {
  id: string
  file: string
  json: Record<string, unknown>
}

/** The generator's parser over the folder (with the lexicons its refs need); a `LexiconError` reaches the CLI. */
function validate(sources: LexiconSource[], others: LexiconSource[], bundled: LexiconSource[]): Document[] {
  loadLexicons([...sources, ...others], { bundled }) // throws, naming every problem
  // Published as written in each file, not as parsed (the parser fills in defaults). Every file of the
  // folder is one: a file identical to a bundled document, merged into it by the parser, all the same.
  return sources
    .map(({ file, text }) => {
      const json = JSON.parse(text) as Record<string, unknown>
      return { id: json.id as string, file, json }
    })
    .sort((a, b) => (a.id < b.id ? -1 : 1))
}

/** putRecord (idempotent by key) unless the record already holds this document; swapRecord guards a concurrent change. */
async function publishOne(client: SdkClient, did: string, id: string, json: Record<string, unknown>): Promise<string> {
  let existing: { cid?: string; value?: Record<string, unknown> } | undefined
  try {
    const params = { repo: did, collection: SCHEMA_COLLECTION, rkey: id }
    existing = (await client.call('com.atproto.repo.getRecord', params)).$data as typeof existing
  } catch (error) {
    if ((error as { error?: unknown }).error !== 'RecordNotFound') throw error
  }
  if (existing?.value) {
    const { $type, ...doc } = existing.value
    if ($type === SCHEMA_COLLECTION && documentText(doc) === documentText(json)) return `unchanged ${id}`
  }
  const record = { $type: SCHEMA_COLLECTION, ...json }
  const input = { repo: did, collection: SCHEMA_COLLECTION, rkey: id, record, swapRecord: existing?.cid }
  const written = (await client.call('com.atproto.repo.putRecord', input)).$data as { uri: string; cid: string }
  return `${existing ? 'updated' : 'published'} ${id} ${written.uri} ${written.cid}`
}

/** One TXT record per distinct authority, each looked up: present, missing, or naming another DID. */
async function printTxtRecords(txt: TxtLookup, did: string, authorities: string[]): Promise<void> {
  const distinct = [...new Set(authorities)].sort()
  console.log(`DNS: each authority needs a TXT record naming ${did}:`)
  for (const authority of distinct) {
    const name = lexiconTxtName(authority)
    let state: string
    try {
      const dids = didsOfTxt(await txt(name))
      if (dids.length === 1 && dids[0] === did) state = 'present'
      else if (!dids.length) state = 'missing'
      else
        state = `wrong: it names ${dids
          .filter((d) => d !== did)
          .map((d) => printable(d))
          .join(', ')}`
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      state = code === 'ENOTFOUND' || code === 'ENODATA' ? 'missing' : `not checked (${printable(String(code))})`
    }
    console.log(`  ${name} TXT "did=${did}"  (${authority}.*: ${state})`)
  }
}

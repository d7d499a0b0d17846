/**
 * The client side of the request benchmark, run by plain `node` (compiled by esbuild, no loader hooks:
 * as an app runs the published package). argv[2] is the built package's directory, argv[3] the job as
 * JSON. Prints `{ [client]: ms per call of each batch }`.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'

export interface Job {
  service: string
  identifier: string
  password: string
  params: { repo: string; collection: string; rkey: string }
  calls: number
  batch: number
}

type Call = () => Promise<unknown>

async function timeBatch(call: Call, size: number): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < size; i++) await call()
  return (performance.now() - started) / size
}

const [packageDir, json] = process.argv.slice(2)
const job = JSON.parse(json) as Job
const entry = pathToFileURL(path.join(packageDir, 'dist/src/index.js')).href
const { Client } = (await import(entry)) as typeof import('../../src/index.js')
const { AtpAgent } = await import('@atproto/api')

const client = new Client({ service: job.service })
await client.authenticate(job.identifier, job.password)
const agent = new AtpAgent({ service: job.service })
await agent.login({ identifier: job.identifier, password: job.password })

// Both wrapped alike: ours returns an awaitable request builder, theirs a promise.
const clients: [string, Call][] = [
  ['blueskysdk', async () => client.com.atproto.repo.getRecord(job.params)],
  ['@atproto/api', async () => agent.com.atproto.repo.getRecord(job.params)],
]
for (const [, call] of clients) await timeBatch(call, job.batch / 2) // warm-up: JIT, connections
const perCall: Record<string, number[]> = Object.fromEntries(clients.map(([name]) => [name, []]))
for (let round = 0; round < job.calls / job.batch; round++) {
  const order = round % 2 === 0 ? clients : [...clients].reverse()
  for (const [name, call] of order) perCall[name].push(await timeBatch(call, job.batch))
}
console.log(JSON.stringify(perCall))

import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { transform } from 'esbuild'
import { startNetwork } from '../../test/network/index.js'
import { median, type Section } from './report.js'
import type { Job } from './requests-client.js'

const run = promisify(execFile)

/**
 * `com.atproto.repo.getRecord` against a local PDS, sequentially, through each client: the PDS runs in
 * this process, the clients in a plain `node` child (./requests-client.ts), `calls` timed calls each
 * in batches that alternate which client goes first, so drift hits both.
 */
export async function requestsSection(packageDir: string, calls = 1000, batch = 100): Promise<Section> {
  // Compiled next to the package so its imports resolve through the package's node_modules link.
  const { code } = await transform(await readFile('scripts/bench/requests-client.ts', 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'node20',
  })
  const script = path.join(packageDir, 'requests-client.mjs')
  await writeFile(script, code)

  const network = await startNetwork()
  try {
    const account = await network.createAccount()
    const response = await fetch(`${network.pdsUrl}/xrpc/com.atproto.repo.createRecord`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.accessJwt}` },
      body: JSON.stringify({
        repo: account.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'benchmark', createdAt: new Date().toISOString() },
      }),
    })
    if (!response.ok) throw new Error(`createRecord: ${response.status} ${await response.text()}`)
    const { uri } = (await response.json()) as { uri: string }
    const job: Job = {
      service: network.pdsUrl,
      identifier: account.handle,
      password: account.password,
      params: { repo: account.did, collection: 'app.bsky.feed.post', rkey: uri.split('/').pop()! },
      calls,
      batch,
    }
    const { stdout } = await run(process.execPath, [script, packageDir, JSON.stringify(job)])
    const perCall = JSON.parse(stdout) as Record<string, number[]>
    const columns = Object.keys(perCall)
    return {
      title: 'Request overhead',
      method: `${calls.toLocaleString('en-US')} sequential \`com.atproto.repo.getRecord\` calls per client against the same local PDS (\`startNetwork()\`, in the bench's process), logged in, responses validated as each client does by default: \`client.com.atproto.repo.getRecord(…)\` of the built package vs \`agent.com.atproto.repo.getRecord(…)\` of \`@atproto/api\`, both in one plain \`node\` process (no loader hooks, as an app runs them). In batches of ${batch} that alternate which client goes first, after ${batch / 2} warm-up calls each; ms per call, the median over batches. The server's time is in both.`,
      unit: 'ms',
      columns,
      lowerIsBetter: true,
      rows: [{ name: 'getRecord, per call', values: columns.map((name) => median(perCall[name])) }],
    }
  } finally {
    await network.close()
  }
}

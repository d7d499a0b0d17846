import { spawn } from 'node:child_process'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { median, type Section } from './report.js'

const SERVICE = 'http://127.0.0.1:1'

/** What each child does between its two clock reads: import the entry, make the client a scenario needs. */
function programs(packageDir: string): Record<string, string> {
  const ours = pathToFileURL(path.join(packageDir, 'dist/src/index.js')).href
  return {
    blueskysdk: `const { Client } = await import(${JSON.stringify(ours)}); new Client({ service: '${SERVICE}' })`,
    '@atproto/api': `const { AtpAgent } = await import('@atproto/api'); new AtpAgent({ service: '${SERVICE}' })`,
    '@atcute/client': `const { Client, simpleFetchHandler } = await import('@atcute/client'); new Client({ handler: simpleFetchHandler({ service: '${SERVICE}' }) })`,
    // What logging in takes with atcute: the password session too (its client is only made after login).
    '@atcute/client + password-session': `const { Client, simpleFetchHandler } = await import('@atcute/client'); await import('@atcute/password-session'); new Client({ handler: simpleFetchHandler({ service: '${SERVICE}' }) })`,
  }
}

/** One fresh `node` process: ms inside it (performance.now() around the program) and wall ms from spawn to exit. */
function once(program: string): Promise<{ inside: number; wall: number }> {
  const code = `const t0 = performance.now(); ${program}; console.log(performance.now() - t0)`
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk))
    child.on('error', reject)
    child.on('exit', (status) => {
      const wall = performance.now() - started
      if (status !== 0) reject(new Error(`cold start exited with ${status}: ${program}`))
      else resolve({ inside: Number(out.trim()), wall })
    })
  })
}

/** Each SDK in `runs` fresh processes, interleaved so machine noise hits all alike, after one untimed round. */
export async function startupSection(packageDir: string, runs = 7): Promise<Section> {
  const entries = Object.entries(programs(packageDir))
  const times = new Map(entries.map(([name]) => [name, [] as { inside: number; wall: number }[]]))
  for (let round = -1; round < runs; round++) {
    for (const [name, program] of entries) {
      const time = await once(program)
      if (round >= 0) times.get(name)!.push(time)
    }
  }
  const pick = (key: 'inside' | 'wall') => entries.map(([name]) => median(times.get(name)!.map((t) => t[key])))
  return {
    title: 'Cold import and first client',
    method: `A fresh \`node\` process (Node ${process.version}) imports the SDK and makes a client: ours is the built package (\`dist/\`, compiled by tsc as \`npm run build\` does) through its root entry, \`new Client({ service })\`; \`new AtpAgent({ service })\`; atcute's \`new Client({ handler: simpleFetchHandler({ service }) })\`, alone and with \`@atcute/password-session\` imported too (what its login needs). In ms, the median of ${runs} processes each, interleaved after an untimed round: inside the process (\`performance.now()\` around the dynamic import and the constructor), and the whole process from spawn to exit (Node's own start included).`,
    unit: 'ms',
    columns: entries.map(([name]) => name),
    lowerIsBetter: true,
    rows: [
      { name: 'import + new client, in process', values: pick('inside') },
      { name: 'whole process, wall time', values: pick('wall') },
    ],
  }
}

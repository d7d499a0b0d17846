import { execFile } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { promisify } from 'node:util'
import { median, type Section } from './report.js'

const run = promisify(execFile)

/** The scenario (log in, post, get a profile) as an app would write it against each published package. */
const APPS: Record<string, { links: Record<string, string>; source: string }> = {
  blueskysdk: {
    links: { blueskysdk: '<package>' },
    source: `import { Client } from 'blueskysdk'

export async function scenario(service: string, identifier: string, password: string, text: string) {
  const client = new Client({ service })
  const session = await client.authenticate(identifier, password)
  const record = { $type: 'app.bsky.feed.post' as const, text, createdAt: new Date().toISOString() }
  await client.com.atproto.repo.createRecord({ repo: session.did, collection: 'app.bsky.feed.post', record })
  const profile = await client.app.bsky.actor.getProfile({ actor: session.did })
  return profile.displayName ?? profile.handle
}
`,
  },
  '@atproto/api': {
    links: { '@atproto': 'node_modules/@atproto' },
    source: `import { AtpAgent } from '@atproto/api'

export async function scenario(service: string, identifier: string, password: string, text: string) {
  const agent = new AtpAgent({ service })
  await agent.login({ identifier, password })
  await agent.post({ text, createdAt: new Date().toISOString() })
  const { data: profile } = await agent.getProfile({ actor: agent.assertDid })
  return profile.displayName ?? profile.handle
}
`,
  },
  '@atcute/client': {
    links: { '@atcute': 'node_modules/@atcute' },
    source: `import type {} from '@atcute/atproto'
import type {} from '@atcute/bluesky'
import { Client, ok } from '@atcute/client'
import { PasswordSession } from '@atcute/password-session'

export async function scenario(service: string, identifier: string, password: string, text: string) {
  const session = await PasswordSession.login({ service, identifier, password })
  const rpc = new Client({ handler: session })
  const record = { $type: 'app.bsky.feed.post' as const, text, createdAt: new Date().toISOString() }
  await ok(rpc.post('com.atproto.repo.createRecord', { input: { repo: session.did, collection: 'app.bsky.feed.post', record } }))
  const profile = await ok(rpc.get('app.bsky.actor.getProfile', { params: { actor: session.did } }))
  return profile.displayName ?? profile.handle
}
`,
  },
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM'],
    types: [],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  },
  files: ['app.ts'],
}

async function makeApp(dir: string, packageDir: string, app: (typeof APPS)[string]): Promise<void> {
  await mkdir(path.join(dir, 'node_modules'), { recursive: true })
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2))
  await writeFile(path.join(dir, 'app.ts'), app.source)
  for (const [name, target] of Object.entries(app.links)) {
    const resolved = target === '<package>' ? packageDir : path.resolve(target)
    await symlink(resolved, path.join(dir, 'node_modules', name), 'dir')
  }
}

async function check(dir: string): Promise<{ checkTime: number; types: number; totalTime: number }> {
  const tsc = path.resolve('node_modules/typescript/bin/tsc')
  const { stdout } = await run(process.execPath, [tsc, '-p', dir, '--extendedDiagnostics'], { cwd: dir }).catch(
    (error: { stdout?: string }) => {
      throw new Error(`the ${dir} app does not type-check:\n${error.stdout ?? error}`)
    },
  )
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+([\\d.]+)`, 'm').exec(stdout)
    if (!match) throw new Error(`no "${name}" in tsc --extendedDiagnostics output`)
    return Number(match[1])
  }
  return { checkTime: field('Check time'), types: field('Types'), totalTime: field('Total time') }
}

/** `tsc --noEmit --extendedDiagnostics` on a one-file app per SDK, `runs` times each, interleaved. */
export async function typecheckSection(scratch: string, packageDir: string, runs = 5): Promise<Section> {
  const names = Object.keys(APPS)
  const dirs = names.map((_, i) => path.join(scratch, `typecheck-${i}`))
  for (const [i, name] of names.entries()) await makeApp(dirs[i], packageDir, APPS[name])
  const results = new Map(names.map((name) => [name, [] as Awaited<ReturnType<typeof check>>[]]))
  for (let round = 0; round < runs; round++) {
    for (const [i, name] of names.entries()) results.get(name)!.push(await check(dirs[i]))
  }
  const pick = (key: 'checkTime' | 'types' | 'totalTime') =>
    names.map((name) => median(results.get(name)!.map((r) => r[key])))
  return {
    title: 'Type-check cost',
    method: `An app file doing the scenario (log in, post, get a profile and read its display name) against each package as installed, checked by \`tsc --noEmit --extendedDiagnostics\` (TypeScript 5.9; strict, \`moduleResolution: nodenext\`, \`skipLibCheck\`, lib ES2022 + DOM, no \`@types\`). Ours is the built package: its \`dist/\` declarations through the package's \`exports\`. Atcute's app imports \`@atcute/atproto\` and \`@atcute/bluesky\` types for the endpoint names. The median of ${runs} runs each, interleaved. "Check time" and "Types" are tsc's own figures.`,
    unit: 's',
    columns: names,
    lowerIsBetter: true,
    rows: [
      { name: 'Check time', values: pick('checkTime') },
      { name: 'Total time', values: pick('totalTime') },
      { name: 'Types', values: pick('types'), unit: '' },
    ],
  }
}

/**
 * `npm run bench`: measures blueskysdk beside the anchors in one run on this machine and writes
 * BENCHMARKS.md (also printed, and the tables into README.md between its bench markers).
 * Options: `--only bundle,install,startup,validation,text,codegen,typecheck,requests,firehose` (default all; a partial run
 * only prints, since the files promise figures from one run), `--lex-cli-runs N`.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { bundleSection } from './bundle.js'
import { codegenSection } from './codegen.js'
import { firehoseSection } from './firehose.js'
import { installSection } from './install.js'
import { preparePackage } from './package.js'
import { renderSection, type Section } from './report.js'
import { requestsSection } from './requests.js'
import { startupSection } from './startup.js'
import { textSection } from './text.js'
import { typecheckSection } from './typecheck.js'
import { validationSection } from './validation.js'

const ALL = ['bundle', 'install', 'startup', 'validation', 'text', 'codegen', 'typecheck', 'requests', 'firehose']
const { values } = parseArgs({
  options: { only: { type: 'string' }, 'lex-cli-runs': { type: 'string', default: '1' } },
})
const wanted = new Set(values.only ? values.only.split(',') : ALL)
const unknown = [...wanted].filter((name) => !ALL.includes(name))
if (unknown.length) throw new Error(`unknown section ${unknown.join(', ')}; sections: ${ALL.join(', ')}`)

const scratch = await mkdtemp(path.join(os.tmpdir(), 'bench-'))
let built: Promise<string> | undefined
/** The built package, made once, for the sections that measure what users install. */
const packageDir = () =>
  (built ??= preparePackage(path.join(scratch, 'package')).then(({ dir, built: how }) => {
    console.error(`package: dist/ ${how === 'copied' ? 'copied from npm run build output' : 'compiled by tsc'}`)
    return dir
  }))

const steps: [string, string, () => Promise<Section>][] = [
  ['bundle', 'bundle size…', () => bundleSection()],
  ['install', 'install size…', () => installSection(scratch)],
  ['startup', 'cold import…', async () => startupSection(await packageDir())],
  ['validation', 'validation…', () => validationSection()],
  ['text', 'string limits…', async () => textSection()],
  ['codegen', 'code generation (lex-cli takes minutes)…', () => codegenSection(3, Number(values['lex-cli-runs']))],
  ['typecheck', 'type-check cost…', async () => typecheckSection(scratch, await packageDir())],
  ['requests', 'request overhead (local PDS)…', async () => requestsSection(await packageDir())],
  ['firehose', 'firehose throughput (local PDS)…', () => firehoseSection(scratch, packageDir)],
]
const sections: Section[] = []
try {
  for (const [name, label, measure] of steps) {
    if (!wanted.has(name)) continue
    console.error(label)
    sections.push(await measure())
  }
} finally {
  await rm(scratch, { recursive: true, force: true })
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const markdown = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${os.cpus().length} × ${cpu}, ${os.platform()}. Every figure is from the same run; ratios are ours divided by the best anchor (below 1× is better, except where a section says higher is better).`,
  '',
  ...sections.flatMap((section) => [renderSection(section), '']),
].join('\n')
if (wanted.size < ALL.length) {
  console.log(markdown)
  console.error('(partial run: BENCHMARKS.md and README.md left as they were)')
  process.exit(0)
}
await writeFile('BENCHMARKS.md', markdown)

// README carries the same tables between markers, so it cannot drift from the last run.
const readme = await readFile('README.md', 'utf8')
const start = '<!-- bench:start -->'
const end = '<!-- bench:end -->'
if (readme.includes(start) && readme.includes(end)) {
  const tables = sections.map((section) => renderSection(section).replace(/^## /, '### ')).join('\n\n')
  const updated =
    readme.slice(0, readme.indexOf(start) + start.length) + '\n\n' + tables + '\n\n' + readme.slice(readme.indexOf(end))
  await writeFile('README.md', updated)
}
console.log(markdown)

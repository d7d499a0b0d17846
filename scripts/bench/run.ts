/**
 * `npm run bench`: measures blueskysdk beside the anchors in one run on this machine and writes
 * BENCHMARKS.md (also printed, and the tables into README.md between its bench markers). Options: `--only validation,codegen`, `--lex-cli-runs N`.
 */
import { readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { codegenSection } from './codegen.js'
import { renderSection, type Section } from './report.js'
import { validationSection } from './validation.js'

const { values } = parseArgs({
  options: { only: { type: 'string' }, 'lex-cli-runs': { type: 'string', default: '1' } },
})
const wanted = new Set((values.only ?? 'validation,codegen').split(','))

const sections: Section[] = []
if (wanted.has('validation')) {
  console.error('validation…')
  sections.push(await validationSection())
}
if (wanted.has('codegen')) {
  console.error('code generation (lex-cli takes minutes)…')
  sections.push(await codegenSection(3, Number(values['lex-cli-runs'])))
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
const markdown = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: Node ${process.version}, ${os.cpus().length} × ${cpu}, ${os.platform()}. Every figure is from the same run; ratios are ours divided by the best anchor (below 1× is better).`,
  '',
  ...sections.flatMap((section) => [renderSection(section), '']),
].join('\n')
await writeFile('BENCHMARKS.md', markdown)

// README carries the same tables between markers, so it cannot drift from the last run.
const readme = await readFile('README.md', 'utf8')
const start = '<!-- bench:start -->'
const end = '<!-- bench:end -->'
if (readme.includes(start) && readme.includes(end)) {
  const tables = sections.map((section) => renderSection(section).replace(/^## /, '### ')).join('\n\n')
  const updated = readme.slice(0, readme.indexOf(start) + start.length) + '\n\n' + tables + '\n\n' + readme.slice(readme.indexOf(end))
  await writeFile('README.md', updated)
}
console.log(markdown)

import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { median, type Section } from './report.js'

/** Wall-clock seconds of a command, output discarded. */
async function time(command: string, args: string[]): Promise<number> {
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args[0]} exited with ${code}`)),
    )
  })
  return (performance.now() - started) / 1000
}

async function lexiconFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.json'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
}

/**
 * The full lexicon set through our CLI and `@atproto/lex-cli gen-api`, each a whole process from
 * start to files written and formatted. lex-cli takes minutes, so it runs `anchorRuns` times.
 */
export async function codegenSection(runs = 3, anchorRuns = 1): Promise<Section> {
  const files = await lexiconFiles('lexicons')
  const scratch = await mkdtemp(path.join(tmpdir(), 'bench-codegen-'))
  try {
    const ours: number[] = []
    for (let i = 0; i < runs; i++) {
      ours.push(
        await time(process.execPath, [
          '--import',
          'tsx',
          'codegen/cli.ts',
          '--lexicons',
          'lexicons',
          '--out',
          path.join(scratch, `ours-${i}`),
        ]),
      )
    }
    const anchor: number[] = []
    for (let i = 0; i < anchorRuns; i++) {
      const out = path.join(scratch, `lex-cli-${i}`)
      anchor.push(
        await time(process.execPath, [
          'node_modules/@atproto/lex-cli/dist/index.js',
          'gen-api',
          '--yes',
          out,
          ...files,
        ]),
      )
    }
    return {
      title: 'Code generation',
      method: `The full lexicon set (${files.length} documents) to formatted TypeScript, in seconds of wall-clock time for the whole process: the median of ${runs} runs for ours, ${anchorRuns} for \`@atproto/lex-cli gen-api\` (0.9.9, the newest for Node 20), which takes minutes.`,
      unit: 's',
      columns: ['blueskysdk-codegen', '@atproto/lex-cli gen-api'],
      lowerIsBetter: true,
      rows: [{ name: `${files.length} lexicons`, values: [median(ours), median(anchor)] }],
    }
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

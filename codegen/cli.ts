#!/usr/bin/env node
import { stat } from 'node:fs/promises'
import { parseCommandArgs } from './arguments.js'
import { ownPackage } from './bundled.js'
import { commandOf } from './commands.js'
import { LexiconError, OutputDirectoryError } from './errors.js'
import { generate } from './generate.js'

const USAGE = `Usage: blueskysdk-codegen --lexicons DIR [--lexicons DIR…] --out DIR [options]

Generates TypeScript types, validators and endpoint descriptors from lexicon JSON documents.

  --lexicons DIR   directory of lexicon JSON files (searched recursively); repeat to combine sets
  --out DIR        output directory (owned by the generator: replaced as a whole)
  --runtime X      where generated code imports the schema runtime from
                   (default: blueskysdk/runtime; a path to the runtime's index file makes it relative)
  --client X       where client.ts imports createClient from, to export one bound to this set
                   (default: blueskysdk, when --runtime is not given)
  --no-client      client.ts exports only the set (\`lexicons\`), for createClient({ lexicons })
  --bundled X      where the modules of the lexicons bundled with blueskysdk (com.atproto, app.bsky, …)
                   are imported from instead of being generated again (default: blueskysdk/lexicons,
                   when --runtime is not given); refs resolve to them, identical copies merge
  --prefer X       which copy wins when a --lexicons file has the id of a bundled document but differs:
                   bundled (the file is ignored) or own (generated from the file); unset, it is an error
  --no-bundled     generate every document from the --lexicons folders alone
  --no-format      skip prettier
  --force          replace --out even if it is a folder the generator did not write (no .blueskysdk-codegen)
  --version        print the version
  -h, --help       print this help

Lexicons from the network (each with --help):
  blueskysdk-codegen pull <nsid | authority.*>… [--out DIR] [--lock FILE] [--check]
  blueskysdk-codegen update [<nsid | authority.*>…]
  blueskysdk-codegen publish DIR [--service URL]

Comparing lexicons: blueskysdk-codegen diff OLD NEW [--json] (exit 1 when a change is breaking)`

/** A mistake in how the command was called: one line on stderr, exit code 2. */
class UsageProblem extends Error {}

async function main(argv: string[]): Promise<number> {
  const command = commandOf(argv)
  if (command) return (await command())(argv.slice(1), (message) => new UsageProblem(message))
  const { values } = parseCommandArgs(
    undefined,
    argv,
    {
      lexicons: { type: 'string', multiple: true },
      out: { type: 'string' },
      runtime: { type: 'string' },
      client: { type: 'string' },
      'no-client': { type: 'boolean' },
      bundled: { type: 'string' },
      'no-bundled': { type: 'boolean' },
      prefer: { type: 'string' },
      'no-format': { type: 'boolean' },
      force: { type: 'boolean' },
      version: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    (message) => new UsageProblem(message),
    { allowPositionals: false },
  )
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  if (values.version) {
    console.log((await ownPackage()).version)
    return 0
  }
  if (!values.lexicons?.length) throw new UsageProblem('missing --lexicons DIR')
  if (!values.out) throw new UsageProblem('missing --out DIR')
  if (values.client !== undefined && values['no-client']) throw new UsageProblem('--client and --no-client conflict')
  if (values.bundled !== undefined && values['no-bundled'])
    throw new UsageProblem('--bundled and --no-bundled conflict')
  if (values.prefer !== undefined && values.prefer !== 'bundled' && values.prefer !== 'own')
    throw new UsageProblem(`--prefer ${values.prefer}: say bundled or own`)
  for (const dir of values.lexicons) {
    const found = await stat(dir).catch(() => undefined)
    if (!found) throw new UsageProblem(`--lexicons ${dir}: no such folder`)
    if (!found.isDirectory()) throw new UsageProblem(`--lexicons ${dir}: not a folder`)
  }

  const started = performance.now()
  const report = await generate({
    lexicons: values.lexicons,
    out: values.out,
    runtime: values.runtime,
    client: values['no-client'] ? false : values.client,
    bundled: values['no-bundled'] ? false : values.bundled,
    prefer: values.prefer as 'bundled' | 'own' | undefined,
    format: !values['no-format'],
    force: values.force,
  })
  const seconds = ((performance.now() - started) / 1000).toFixed(2)
  console.log(
    `Generated ${report.files} files from ${report.documents} lexicon documents into ${values.out} in ${seconds} s`,
  )
  for (const [namespace, count] of Object.entries(report.namespaces).sort()) console.log(`  ${namespace} ${count}`)
  if (report.reused.length)
    console.log(`  imported from the bundled lexicons: ${report.reused.length} (${report.reused.join(', ')})`)
  for (const { id, file, kept } of report.overridden)
    console.log(
      `  ${id}: ${kept === 'own' ? `generated from ${file}, not the bundled copy` : `the bundled copy, not ${file}`}`,
    )
  for (const { id, def, type } of report.skipped)
    console.log(`  no code for ${type} ${def === 'main' ? id : `${id}#${def}`}`)
  return 0
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof UsageProblem || error instanceof OutputDirectoryError) {
    console.error(`blueskysdk-codegen: ${error.message} (see --help)`)
    process.exitCode = 2
  } else if (error instanceof LexiconError) {
    console.error(error.message)
    console.error('Nothing was written.')
    process.exitCode = 1
  } else if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as Error).message) {
    // A file system refusal (EACCES, ENOSPC, …) is the environment's, not a bug: its message says it all.
    console.error(`blueskysdk-codegen: ${(error as Error).message}`)
    process.exitCode = 1
  } else throw error
}

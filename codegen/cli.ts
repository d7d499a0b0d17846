#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { FormatterMissingError, LexiconError } from './errors.js'
import { generate } from './generate.js'

const USAGE = `Usage: blueskysdk-codegen --lexicons DIR [--lexicons DIR…] --out DIR [--runtime SPECIFIER|PATH] [--client SPECIFIER | --no-client] [--no-format]

Generates TypeScript types, validators and endpoint descriptors from lexicon JSON documents.

  --lexicons DIR   directory of lexicon JSON files (searched recursively); repeat to combine sets
  --out DIR        output directory (owned by the generator: replaced as a whole)
  --runtime X      where generated code imports the schema runtime from
                   (default: blueskysdk/runtime; a path to the runtime's index file makes it relative)
  --client X       where client.ts imports createClient from, to export one bound to this set
                   (default: blueskysdk, when --runtime is not given)
  --no-client      client.ts exports only the set (\`lexicons\`), for createClient({ lexicons })
  --no-format      skip prettier`

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      lexicons: { type: 'string', multiple: true },
      out: { type: 'string' },
      runtime: { type: 'string' },
      client: { type: 'string' },
      'no-client': { type: 'boolean' },
      'no-format': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  if (!values.lexicons?.length || !values.out) {
    console.error(USAGE)
    return 2
  }
  const started = performance.now()
  try {
    const report = await generate({
      lexicons: values.lexicons,
      out: values.out,
      runtime: values.runtime,
      client: values['no-client'] ? false : values.client,
      format: !values['no-format'],
    })
    const seconds = ((performance.now() - started) / 1000).toFixed(2)
    console.log(
      `Generated ${report.files} files from ${report.documents} lexicon documents into ${values.out} in ${seconds} s`,
    )
    for (const [namespace, count] of Object.entries(report.namespaces).sort()) console.log(`  ${namespace} ${count}`)
    for (const { id, def, type } of report.skipped)
      console.log(`  no code for ${type} ${def === 'main' ? id : `${id}#${def}`}`)
    return 0
  } catch (error) {
    if (error instanceof LexiconError || error instanceof FormatterMissingError) {
      console.error(error.message)
      console.error('Nothing was written.')
      return 1
    }
    throw error
  }
}

process.exitCode = await main()

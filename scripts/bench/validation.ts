import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { median, type Section } from './report.js'
import { samples } from './samples.js'

const run = promisify(execFile)

export const VALIDATORS = ['blueskysdk', '@atcute/bluesky', '@atproto/lexicon'] as const

/** Each validator in fresh processes (`processes` each), interleaved so machine noise hits all alike. */
export async function validationSection(processes = 3): Promise<Section> {
  const runs = new Map<string, Record<string, number>[]>(VALIDATORS.map((v) => [v, []]))
  for (let round = 0; round < processes; round++) {
    for (const validator of VALIDATORS) {
      const { stdout } = await run(process.execPath, [
        '--import',
        'tsx',
        'scripts/bench/validation-worker.ts',
        validator,
      ])
      runs.get(validator)!.push(JSON.parse(stdout))
    }
  }
  return {
    title: 'Validation throughput',
    method: `Time to validate one value, in ns per operation: the median of ${processes} fresh processes per validator, each the median of 9 timed batches of 50,000 after warm-up. Same JSON values for all (\`@atproto/lexicon\` gets its own value form, converted outside the timing). Ours is \`validate(ref, value)\` from the generated registry.`,
    unit: 'ns',
    columns: [...VALIDATORS],
    lowerIsBetter: true,
    rows: samples.map((sample) => ({
      name: sample.name,
      values: VALIDATORS.map((validator) => median(runs.get(validator)!.map((r) => r[sample.name]))),
    })),
  }
}

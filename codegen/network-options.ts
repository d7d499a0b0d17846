import { stat } from 'node:fs/promises'
import { isDnsServer } from './lexicon-authority.js'

/** The options of the commands that find lexicons on the network (`pull`, `update`, `publish`). */
export const NETWORK_OPTIONS = {
  lexicons: { type: 'string', multiple: true, default: [] as string[] },
  'no-bundled': { type: 'boolean' },
  plc: { type: 'string' },
  dns: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const

/** A wrong value of those options, as a usage error: checked before anything runs. */
export async function checkNetworkOptions(
  values: { lexicons: string[]; plc?: string; dns?: string[] },
  usage: (message: string) => Error,
): Promise<void> {
  for (const server of values.dns ?? [])
    if (!isDnsServer(server)) throw usage(`--dns ${server}: say an IP address, with :PORT if not 53`)
  if (values.plc !== undefined && !/^https?:\/\//.test(values.plc))
    throw usage(`--plc ${values.plc}: not an http(s) URL`)
  for (const dir of values.lexicons) {
    const found = await stat(dir).catch(() => undefined)
    if (!found?.isDirectory()) throw usage(`--lexicons ${dir}: no such folder`)
  }
}

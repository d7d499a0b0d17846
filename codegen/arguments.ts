import { parseArgs, type ParseArgsConfig } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>
type Config<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: boolean }

/**
 * `node:util`'s strict `parseArgs`, its mistakes made usage errors: one line (`command: message`),
 * without its hint about `--`, which none of these commands needs.
 */
export function parseCommandArgs<const O extends Options>(
  command: string | undefined,
  args: string[],
  options: O,
  usage: (message: string) => Error,
  { allowPositionals = true } = {},
): ReturnType<typeof parseArgs<Config<O>>> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals })
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '')
    throw usage(command ? `${command}: ${message}` : message)
  }
}

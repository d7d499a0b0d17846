/**
 * The generator's subcommands, by name: each module is loaded only when its command runs (they need
 * the runtime package; `generate` does not). A command gets its arguments and a maker of the CLI's
 * usage errors (one line on stderr, exit 2), and returns its exit code.
 */
export type Command = (argv: string[], usage: (message: string) => Error) => Promise<number>

export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  pull: async () => {
    const { lexiconPull } = await import('./lexicon-pull.js')
    return (argv, usage) => lexiconPull('pull', argv, usage)
  },
  update: async () => {
    const { lexiconPull } = await import('./lexicon-pull.js')
    return (argv, usage) => lexiconPull('update', argv, usage)
  },
  publish: async () => (await import('./lexicon-publish.js')).lexiconPublish,
  diff: async () => (await import('./diff-command.js')).runDiff,
}

/** The command `argv` starts with, if it names one. */
export function commandOf(argv: readonly string[]): (() => Promise<Command>) | undefined {
  const [first] = argv
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined
}

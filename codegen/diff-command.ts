import { stat } from 'node:fs/promises'
import { parseCommandArgs } from './arguments.js'
import { LexiconError, type LexiconProblem } from './errors.js'
import { readRevisionFolder, revisionSpec } from './git-revision.js'
import type { LexiconDocument } from './lexicon-document.js'
import { type LexiconChange, diffLexicons } from './lexicon-diff.js'
import { type LexiconSource, loadLexicons, readLexiconDir } from './load.js'

export const DIFF_USAGE = `Usage: blueskysdk-codegen diff OLD NEW [--json]

Compares two folders of lexicon JSON (searched recursively) and classifies every change by the
lexicon evolution rules. Either may be a folder as a git commit holds it, in git's REV:PATH
spelling (main:lexicons, HEAD~1:lexicons): what a change did to a committed lexicon folder. Exit code 0: no breaking change; 1: a breaking change, or an invalid
document; 2: a wrong call.

  --json       the changes as JSON
  -h, --help   print this help`

/**
 * `blueskysdk-codegen diff OLD NEW`: prints the changes and returns the exit code. A wrong call is
 * thrown as what `usageProblem` makes, so the CLI answers it as it answers its other ones.
 */
export async function runDiff(argv: string[], usageProblem: (message: string) => Error): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'diff',
    argv,
    { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    usageProblem,
  )
  if (values.help) {
    console.log(DIFF_USAGE)
    return 0
  }
  if (positionals.length !== 2) throw usageProblem('diff needs two folders: diff OLD NEW')
  const [oldSources, newSources] = await Promise.all(positionals.map((arg) => sourcesOf(arg, usageProblem)))
  const [oldDir, newDir] = positionals as [string, string]

  let result: FolderDiff
  try {
    result = await diffSources(oldSources!, newSources!)
  } catch (error) {
    // The generator's message (every problem by file and JSON path), without its "Nothing was written".
    if (!(error instanceof LexiconError)) throw error
    console.error(error.message)
    return 1
  }
  const { changes, documents } = result
  const breaking = changes.filter((change) => change.breaking).length
  if (values.json) {
    const summary = { breaking, compatible: changes.length - breaking }
    console.log(JSON.stringify({ old: oldDir, new: newDir, documents, ...summary, changes }, null, 2))
  } else {
    console.log(report(changes, documents.old, documents.new))
  }
  return breaking ? 1 : 0
}

export interface FolderDiff {
  changes: LexiconChange[]
  /** How many documents each folder holds. */
  documents: { old: number; new: number }
}

/** A folder on disk, else a folder in a git revision (`REV:PATH`); neither is a wrong call. */
async function sourcesOf(arg: string, usageProblem: (message: string) => Error): Promise<LexiconSource[]> {
  const found = await stat(arg).catch(() => undefined)
  if (found?.isDirectory()) return readLexiconDir(arg)
  if (found) throw usageProblem(`diff ${arg}: not a folder`)
  const spec = revisionSpec(arg)
  const sources = spec && (await readRevisionFolder(spec.rev, spec.path))
  if (!sources) throw usageProblem(`diff ${arg}: no such folder${spec ? ', nor a folder of that git revision' : ''}`)
  return sources
}

/** The changes between two folders of lexicon JSON; invalid documents (in either) throw one `LexiconError`. */
export async function diffFolders(oldDir: string, newDir: string): Promise<FolderDiff> {
  return diffSources(...(await Promise.all([readLexiconDir(oldDir), readLexiconDir(newDir)])))
}

async function diffSources(oldSources: LexiconSource[], newSources: LexiconSource[]): Promise<FolderDiff> {
  const [old, next] = loadBoth(oldSources, newSources)
  return { changes: diffLexicons(old, next), documents: { old: old.length, new: next.length } }
}

/** Both sets, each on its own (refs to lexicons outside it are fine); the problems of both in one error. */
function loadBoth(...sets: [LexiconSource[], LexiconSource[]]): [LexiconDocument[], LexiconDocument[]] {
  const problems: LexiconProblem[] = []
  const [old, next] = sets.map((sources) => {
    try {
      const set = loadLexicons(sources, { allowExternalRefs: true })
      return [...set.documents.values()].map(({ doc }) => doc)
    } catch (error) {
      if (!(error instanceof LexiconError)) throw error
      problems.push(...error.problems)
      return []
    }
  })
  if (problems.length) throw new LexiconError(problems)
  return [old!, next!]
}

function report(changes: readonly LexiconChange[], oldCount: number, newCount: number): string {
  const lines: string[] = []
  for (const breaking of [true, false]) {
    const group = changes.filter((change) => change.breaking === breaking)
    if (!group.length) continue
    lines.push(`${breaking ? 'Breaking' : 'Compatible'} changes (${group.length}):`)
    for (const change of group) lines.push(`  ${line(change)}`)
  }
  const breakingCount = changes.filter((change) => change.breaking).length
  const documents = new Set(changes.map((change) => change.nsid)).size
  lines.push(
    changes.length
      ? `${count(changes.length, 'change')} in ${count(documents, 'document')}: ${breakingCount} breaking, ${changes.length - breakingCount} compatible`
      : `No changes (${count(oldCount, 'document')} before, ${newCount} after)`,
  )
  return lines.join('\n')
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

/** `com.example.note#main.record.properties.text.maxLength: 3000 → 300 (breaking: constraint tightened)` */
export function line(change: LexiconChange): string {
  const { before, after } = change
  const what =
    before === undefined && after === undefined
      ? ''
      : before === undefined
        ? `: added ${show(after)}`
        : after === undefined
          ? `: removed ${show(before)}`
          : `: ${show(before)} → ${show(after)}`
  return `${change.location}${what} (${change.breaking ? 'breaking' : 'compatible'}: ${change.rule})`
}

/** A value on one line, long ones (descriptions) cut short: the JSON output has them whole. */
function show(value: unknown): string {
  const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value)
  return text.length > 60 ? `${text.slice(0, 59)}…` : text
}

/** A problem with one lexicon document, located by file and JSON path (`$.defs.main.record`). */
export interface LexiconProblem {
  file: string
  path: string
  message: string
}

/** Generation refused: the input has problems. Nothing was written. */
export class LexiconError extends Error {
  constructor(readonly problems: readonly LexiconProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in lexicons:\n` +
        problems.map((p) => `  ${p.file}: ${p.path}: ${p.message}`).join('\n'),
    )
    this.name = 'LexiconError'
  }
}

/** The output directory cannot be used: generation refused before anything was read or written. */
export class OutputDirectoryError extends Error {
  override name = 'OutputDirectoryError'
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/

/** `['defs', 'main', 'refs', 2]` → `$.defs.main.refs[2]` */
export function jsonPath(keys: readonly (string | number)[]): string {
  let out = '$'
  for (const key of keys) {
    if (typeof key === 'number') out += `[${key}]`
    else out += IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
  }
  return out
}

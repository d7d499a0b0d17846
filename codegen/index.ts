/** The lexicon code generator, programmatically: `generate({ lexicons, out })`. */
export { generate, generateFiles, type GenerateOptions, type GenerateReport, MARKER_FILE } from './generate.js'
export { LexiconError, type LexiconProblem, OutputDirectoryError } from './errors.js'
export { loadLexicons, readLexiconDir, LexiconSet, type LexiconSource } from './load.js'
export { diffLexicons, LEXICON_CHANGE_KINDS, type LexiconChange, type LexiconChangeKind } from './lexicon-diff.js'

/** The lexicon code generator, programmatically: `generate({ lexicons, out })`. */
export { generate, generateFiles, type GenerateOptions, type GenerateReport } from './generate.js'
export { LexiconError, type LexiconProblem } from './errors.js'
export { loadLexicons, readLexiconDir, LexiconSet, type LexiconSource } from './load.js'

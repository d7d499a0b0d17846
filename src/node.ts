/** Node-only pieces, kept off the main entry's browser path: `import { FileSessionStore } from 'blueskysdk/node'`. */
export { FileSessionStore } from './session/file-store.js'

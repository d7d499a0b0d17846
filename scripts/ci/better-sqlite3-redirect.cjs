// Preloaded (NODE_OPTIONS=--require) by scripts/ci/node-matrix.sh into every process of a test run on
// a Node other than the machine's. The PDS's SQLite binding, better-sqlite3, is a native addon: the one
// in node_modules is the version @atproto/pds 0.4.217 asks for (10.x), built at install for the
// machine's Node 20 and its ABI only, and 10.x/11.x/12.x either do not build for Node 24 or abort
// there. better-sqlite3 13 is a Node-API addon (one binary for every Node with Node-API 10: 22.14 and
// later, not 20), so the matrix installs it beside node_modules, and this resolves every
// require('better-sqlite3') there, in processes of the Node it was set up for only. Nothing in
// node_modules is rebuilt or replaced: the machine's Node keeps its own build throughout.
'use strict'
const Module = require('node:module')

const prefix = process.env.NODE_MATRIX_SQLITE_PREFIX
if (prefix && process.env.NODE_MATRIX_NODE === process.version) {
  const resolve = Module._resolveFilename
  Module._resolveFilename = function (request, parent, isMain, options) {
    if (request === 'better-sqlite3' || request.startsWith('better-sqlite3/')) {
      return resolve.call(this, request, parent, isMain, { ...options, paths: [prefix] })
    }
    return resolve.call(this, request, parent, isMain, options)
  }
}

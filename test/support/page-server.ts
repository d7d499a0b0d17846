// The browser tests' page: an entry bundled with esbuild at its browser defaults (in memory,
// code-split), served with its config from http://127.0.0.1:PORT.
import { createServer, type Server } from 'node:http'
import path from 'node:path'
import { build, type OutputFile } from 'esbuild'
import { expect } from 'vitest'

export interface PageBundle {
  files: Map<string, OutputFile>
  ms: number
}

/**
 * esbuild at its defaults for a browser bundle (no externals, no polyfills, no platform shims), in
 * memory: `/page.js` plus one chunk per dynamically imported module.
 */
export async function bundlePage(entry: string): Promise<PageBundle> {
  const outdir = path.join(path.dirname(entry), 'out') // virtual: nothing is written
  const started = performance.now()
  const result = await build({
    entryPoints: { page: entry },
    outdir,
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    splitting: true,
    logLevel: 'silent',
  })
  expect(result.errors).toEqual([])
  expect(result.warnings.map((w) => `${w.location?.file}:${w.location?.line}: ${w.text}`)).toEqual([])
  const files = new Map(result.outputFiles.map((file) => [`/${path.relative(outdir, file.path)}`, file]))
  return { files, ms: Math.round(performance.now() - started) }
}

/** Serves the page at `/` (any query: a redirect back to it carries one) with `config()` as JSON in it. */
export function servePage(files: Map<string, OutputFile>, config: () => unknown): Promise<Server> {
  const http = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://page').pathname
    if (pathname === '/') {
      // `<` escaped so no value can close the script element.
      const json = JSON.stringify(config()).replace(/</g, '\\u003c')
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(
        `<!doctype html><html><head><meta charset="utf-8"><title>blueskysdk in a browser</title>` +
          `<link rel="icon" href="data:,">` +
          `<script type="application/json" id="config">${json}</script>` +
          `<script type="module" src="/page.js"></script></head><body></body></html>`,
      )
      return
    }
    const file = files.get(pathname)
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
      return
    }
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(file.contents)
  })
  return new Promise((resolve, reject) => {
    http.once('error', reject)
    http.listen(0, '127.0.0.1', () => resolve(http))
  })
}

/**
 * The bundle bench counts the chunks a scenario loads from a list of the modules it loads lazily
 * (scripts/bench/bundle.ts). Here each scenario's code-split build is run against a stub server,
 * and the chunks it really imports must be the ones counted: none missing, none extra.
 */
import { describe, expect, it } from 'vitest'
import { countedChunks, runChunks } from '../scripts/bench/bundle.js'

describe('the bundle bench', () => {
  for (const name of ['ours-client', 'ours-endpoints', 'atcute', 'atcute-validated']) {
    it(`counts the chunks the ${name} scenario loads when it runs`, async () => {
      const [counted, loaded] = await Promise.all([countedChunks(name), runChunks(name)])
      expect(loaded.length).toBeGreaterThan(0)
      expect(counted).toEqual(loaded)
    })
  }

  it('loads from the namespaced client only the namespaces the scenario calls, not a map of every NSID', async () => {
    const loaded = await runChunks('ours-client')
    expect(loaded.filter((file) => file.startsWith('_namespace-'))).toHaveLength(3) // repo, actor, feed (the post)
  })
})

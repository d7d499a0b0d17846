// A browser app's entry, built by each bundler at its default settings: the main entry's Client
// and facade, used (so nothing is tree-shaken away) but not run.
import { bskyFacade, Client } from 'blueskysdk'

export function start(service) {
  const client = new Client({ service })
  return { client, bsky: bskyFacade(client) }
}

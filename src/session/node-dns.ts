import { Resolver } from 'node:dns/promises'

/**
 * TXT lookups through Node's resolver with servers of the app's choice (`['127.0.0.1:5353']`, a
 * company resolver), for `new IdentityResolver({ txt: nodeDnsTxt({ servers }) })`. Node only:
 * exported from `blueskysdk/node`.
 */
export function nodeDnsTxt(
  options: { servers?: string[]; timeoutMs?: number } = {},
): (name: string) => Promise<string[][]> {
  const resolver = new Resolver({ timeout: options.timeoutMs ?? 5_000, tries: 2 })
  if (options.servers) resolver.setServers(options.servers)
  return (name) => resolver.resolveTxt(name)
}

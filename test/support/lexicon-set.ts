import type { LexiconKind, LexiconSet } from '../../src/runtime/index.js'

/** Every entry of a lexicon set, namespace modules loaded: by NSID, its kind and module loader. */
export async function entriesOf(
  set: LexiconSet,
): Promise<[nsid: string, kind: LexiconKind, load: () => Promise<object>][]> {
  const all: [string, LexiconKind, () => Promise<object>][] = []
  for (const [namespace, load] of Object.entries(set.namespaces)) {
    const { entries } = await load()
    for (const [name, [kind, loadModule]] of Object.entries(entries))
      all.push([`${namespace}.${name}`, kind, loadModule])
  }
  return all
}

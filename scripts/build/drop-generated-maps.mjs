// After `tsc -p tsconfig.build.json`: removes the source and declaration maps of dist/generated.
// Maps are shipped for the hand-written code (with its sources in the package); generated code is
// tsc's output of readable generated TypeScript, so its maps would add ~1.3 MB to every install
// and point at sources the package does not ship.
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'

const dir = path.resolve(import.meta.dirname, '../../dist/generated')
for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath, entry.name)
  if (entry.name.endsWith('.map')) await rm(file)
  else if (entry.name.endsWith('.js') || entry.name.endsWith('.d.ts')) {
    const text = await readFile(file, 'utf8')
    const stripped = text.replace(/\n\/\/# sourceMappingURL=\S+\n?$/, '\n')
    if (stripped !== text) await writeFile(file, stripped)
  }
}

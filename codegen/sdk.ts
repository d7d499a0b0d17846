import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * The runtime package (`blueskysdk`, this package's optional peer), loaded only by the commands that
 * talk to the network (`pull`, `update`, `publish`): `generate` works without it installed. The
 * specifier is held in a variable so TypeScript does not resolve it: the generator is compiled on its
 * own, and the parts it uses are described structurally below.
 */

export interface SdkResponse<T> {
  $data: T
}

export interface SdkClient {
  call(nsid: string, paramsOrInput?: unknown, options?: Record<string, unknown>): Promise<SdkResponse<unknown>>
}

export interface SdkPasswordSession {
  authenticate(identifier: string, password: string): Promise<unknown>
  logout(): Promise<void>
  readonly did: string | undefined
}

export interface SdkDidDocument {
  id: string
  service?: { id: string; type: string; serviceEndpoint: unknown }[]
}

export interface SdkIdentityResolver {
  resolveDid(did: string): Promise<SdkDidDocument>
}

export type TxtLookup = (name: string) => Promise<string[][]>

export interface Sdk {
  Client: new (options: {
    service?: string
    auth?: unknown
    timeoutMs?: number
    maxResponseBytes?: number
    retry?: unknown
  }) => SdkClient
  PasswordSession: new (options: { service?: string; identity?: SdkIdentityResolver }) => SdkPasswordSession
  IdentityResolver: new (options: { plcUrl?: string; txt?: TxtLookup; timeoutMs?: number }) => SdkIdentityResolver
  noAuth: unknown
  pdsOf: (document: unknown) => string | undefined
  nodeDnsTxt: (options?: { servers?: string[]; timeoutMs?: number }) => TxtLookup
}

const PACKAGE = 'blueskysdk'

/** A command needs the runtime package and it is not installed. */
export class MissingSdkError extends Error {
  override name = 'MissingSdkError'
}

let loaded: Promise<Sdk> | undefined

export function loadSdk(): Promise<Sdk> {
  loaded ??= importSdk()
  return loaded
}

async function importSdk(): Promise<Sdk> {
  // Run from its sources in this repository (tsx codegen/cli.ts), the generator takes the runtime's
  // sources beside it: the package's own name would resolve to dist/, which may be older.
  const sources = new URL('../src/', import.meta.url)
  const [main, node] =
    import.meta.url.endsWith('.ts') && existsSync(fileURLToPath(new URL('index.ts', sources)))
      ? [new URL('index.ts', sources).href, new URL('node.ts', sources).href]
      : [PACKAGE, `${PACKAGE}/node`]
  try {
    const [sdk, nodeEntry] = await Promise.all([import(main), import(node)])
    return { ...sdk, nodeDnsTxt: nodeEntry.nodeDnsTxt } as Sdk
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || main !== PACKAGE) throw error
    throw new MissingSdkError(
      `this command needs the ${PACKAGE} package (the runtime, this generator's peer): npm install ${PACKAGE}`,
    )
  }
}

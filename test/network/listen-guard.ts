// Loaded for its side effects by ./index.ts, before any server code runs.
// The PDS, PLC, AppView and Ozone (and get-port's probes in @atproto/dev-env) all call
// `server.listen(port)`, which binds every interface. Tests may only listen on loopback, so every
// net.Server in this process (http, http2 and express servers included) that asks for no host or a
// wildcard host is bound to 127.0.0.1 instead. Unix sockets and handles pass through unchanged.
import dns from 'node:dns'
import net from 'node:net'

// The services address each other as http://localhost:PORT (a PDS's public URL keeps its port only
// with the hostname localhost); resolve that to 127.0.0.1, where they listen, not to ::1.
dns.setDefaultResultOrder('ipv4first')

const LOOPBACK = '127.0.0.1'
const WILDCARDS = new Set([undefined, null, '', '0.0.0.0', '::'])

type Bound = { server: net.Server; address: net.AddressInfo }
type Listen = ((this: net.Server, ...args: unknown[]) => net.Server) & { boundServers?: Bound[] }
const current = net.Server.prototype.listen as Listen
// Idempotent: this module may be evaluated more than once in a process (vitest module isolation).
const installed = current.boundServers !== undefined
const originalListen = current

/** Every TCP address a server of this process was bound to since the guard was installed. */
export const boundServers: Bound[] = current.boundServers ?? []

function loopbackListen(this: net.Server, ...args: unknown[]): net.Server {
  const callback = typeof args.at(-1) === 'function' ? args.pop() : undefined
  const [first] = args
  let options: net.ListenOptions | undefined
  if (first !== null && typeof first === 'object') {
    // listen(options[, cb]); options with a path or a handle are not TCP and pass through.
    const given = first as net.ListenOptions & { handle?: unknown; _handle?: unknown; fd?: unknown }
    const isTcp =
      given.path === undefined && given.handle === undefined && given._handle === undefined && given.fd === undefined
    if (isTcp) options = { ...given }
  } else if (first == null || typeof first === 'number' || /^\d+$/.test(String(first))) {
    // listen([port[, host[, backlog]]][, cb])
    const [port, hostOrBacklog, backlog] = args as [number | string | undefined, unknown, unknown]
    const host = typeof hostOrBacklog === 'string' ? hostOrBacklog : undefined
    options = { port: Number(port ?? 0), host }
    const givenBacklog = typeof hostOrBacklog === 'number' ? hostOrBacklog : backlog
    if (typeof givenBacklog === 'number') options.backlog = givenBacklog
  }
  if (!options) return originalListen.call(this, ...args, ...(callback ? [callback] : []))
  if (WILDCARDS.has(options.host)) options.host = LOOPBACK
  this.once('listening', () => {
    const address = this.address()
    if (address && typeof address === 'object') boundServers.push({ server: this, address })
  })
  return originalListen.call(this, options, ...(callback ? [callback] : []))
}

if (!installed) {
  net.Server.prototype.listen = Object.assign(loopbackListen, { boundServers }) as typeof net.Server.prototype.listen
}

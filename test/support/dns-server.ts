import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { nodeDnsTxt } from '../../src/node.js'

/**
 * A real DNS server on loopback for the identity tests: Debian's dnsmasq (test/network/dnsmasq-setup.sh)
 * on a free 127.0.0.1 port, answering the TXT records it is started with and nothing else (no
 * upstream, no hosts file).
 */
export interface DnsServer {
  /** `127.0.0.1:<port>`, for a resolver's servers. */
  address: string
  close(): Promise<void>
}

export const DNSMASQ = '/usr/sbin/dnsmasq'
export const dnsmasqProblem = existsSync(DNSMASQ) ? undefined : `no ${DNSMASQ}: run test/network/dnsmasq-setup.sh`

export async function startDnsServer(txt: Record<string, string>): Promise<DnsServer> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000)
    const args = [
      '--keep-in-foreground',
      '--no-daemon',
      `--port=${port}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      '--no-negcache',
      '--user=root',
      ...Object.entries(txt).map(([name, value]) => `--txt-record=${name},${value}`),
    ]
    const child = spawn(DNSMASQ, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    const address = `127.0.0.1:${port}`
    if (await answers(address, child, exited)) return { address, close: () => stop(child, exited) }
    await stop(child, exited) // the port was taken: another one
  }
  throw new Error('dnsmasq did not start on any of 10 ports')
}

/** Whether the server answers (for a name it has no record of, with no upstream: REFUSED, an answer all the same). */
async function answers(address: string, child: ChildProcess, exited: Promise<number | null>): Promise<boolean> {
  const txt = nodeDnsTxt({ servers: [address], timeoutMs: 200 })
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) return false
    const reply = await Promise.race([
      txt('probe.invalid').then(
        () => true,
        (error: NodeJS.ErrnoException) => ['ENOTFOUND', 'ENODATA', 'EREFUSED'].includes(error.code ?? ''),
      ),
      exited.then(() => false),
    ])
    if (reply) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode === null) child.kill('SIGTERM')
  await exited
}

// Redis for the shared session store tests. Set it up with: bash test/network/redis-setup.sh
// Probed once, when this module is first imported.
import { describe, expect, it } from 'vitest'
import { createClient } from 'redis'

export const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379'

async function probe(): Promise<string | undefined> {
  const client = createClient({ url: redisUrl, socket: { connectTimeout: 2000, reconnectStrategy: false } })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    await client.destroy()
  }
}

const problem = await probe()

/** Like describeAppview: skipped with a notice where Redis is unreachable, failing under CI=true. */
export function describeRedis(name: string, fn: () => void): void {
  if (problem === undefined) {
    describe(name, fn)
    return
  }
  const reason = `no Redis at ${redisUrl} (REDIS_URL): ${problem}; run test/network/redis-setup.sh`
  if (process.env.CI === 'true') {
    describe(name, () => it('has Redis', () => expect.fail(`CI=true and this suite needs Redis: ${reason}`)))
    return
  }
  console.warn(`[skipped] "${name}": ${reason}`)
  describe.skip(`${name} [skipped: ${reason}]`, fn)
}

export async function connectRedis() {
  const client = createClient({ url: redisUrl })
  client.on('error', () => {})
  await client.connect()
  return client
}

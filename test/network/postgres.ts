// PostgreSQL for the AppView (and Ozone). Set it up with: bash test/network/postgres-setup.sh
// Probed once, when this module is first imported.
import pg from 'pg'

const url = process.env.DB_POSTGRES_URL || 'postgresql://bsky:bsky@127.0.0.1:5432/bsky'

async function probe(connectionString: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 3000 })
  client.on('error', () => {}) // a dropped probe connection must not crash the process
  try {
    await client.connect()
    await client.query('select 1')
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    await client.end().catch(() => {})
  }
}

const problem = await probe(url)

/** DB_POSTGRES_URL (default postgresql://bsky:bsky@127.0.0.1:5432/bsky) when it answers, else undefined. */
export const postgresUrl: string | undefined = problem === undefined ? url : undefined

/** Why PostgreSQL is unusable (URL without its password, and the error), when it is. */
export const postgresProblem: string | undefined =
  problem && `no PostgreSQL at ${url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')} (DB_POSTGRES_URL): ${problem}`

export async function dropSchemas(connectionString: string, schemas: string[]): Promise<void> {
  const client = new pg.Client({ connectionString })
  await client.connect()
  try {
    for (const schema of schemas) await client.query(`drop schema if exists "${schema}" cascade`)
  } finally {
    await client.end()
  }
}

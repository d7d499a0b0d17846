// Policy for tests that need PostgreSQL (the AppView): run them under describeAppview(). Where
// PostgreSQL is unreachable they are skipped with a visible notice, except in CI (CI=true), where
// they fail. Set PostgreSQL up with: bash test/network/postgres-setup.sh
import { describe, it } from 'vitest'
import { postgresProblem } from './postgres.js'

export { postgresUrl } from './postgres.js'

export function describeAppview(name: string, fn: () => void): void {
  if (postgresProblem === undefined) {
    describe(name, fn)
    return
  }
  const reason = `${postgresProblem}; run test/network/postgres-setup.sh`
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has PostgreSQL', () => {
        throw new Error(`CI=true and this suite needs PostgreSQL: ${reason}`)
      })
    })
    return
  }
  console.warn(`[skipped] "${name}": ${reason}`)
  describe.skip(`${name} [skipped: ${reason}]`, fn)
}

/**
 * Firehose verification: `client.com.atproto.sync.subscribeRepos({}, { verify: repoVerifier() })`
 * checks each commit's signature against its repo's DID document and each op against the signed
 * tree. Needs the optional peer dependency `@atcute/crypto`; kept off the main entry so that apps
 * that don't verify neither install nor bundle it.
 */
export { repoVerifier, type RepoVerifierOptions } from './session/repo-verifier.js'

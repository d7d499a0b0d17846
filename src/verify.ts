/**
 * Firehose verification: `client.com.atproto.sync.subscribeRepos({}, { verify: signatureVerifier() })`
 * checks each commit's signature against its repo's DID document and each op against the signed
 * tree. Needs the optional peer dependency `@atcute/crypto`; kept off the main entry so that apps
 * that don't verify neither install nor bundle it.
 */
export { signatureVerifier, type SignatureVerifierOptions } from './session/signature-verifier.js'

/**
 * OAuth on Node with `@atproto/oauth-client-node` (an optional peer dependency: install it to use
 * this entry): a loopback or confidential client on the app's session store, and the loopback
 * sign-in. Its sessions go to `new Client({ auth: session })` as they are.
 */
export {
  createOAuthClient,
  oauthKeysFromEnv,
  signInLoopback,
  type LoopbackOAuthOptions,
  type LoopbackSignInOptions,
  type OAuthClientCommonOptions,
  type OAuthStoreSource,
  type WebOAuthOptions,
} from './session/oauth-node.js'
export { OAuthSessionAuth, OAuthSessionError, type OAuthSessionLike } from './session/oauth.js'

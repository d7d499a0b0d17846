import { ScopePermissions } from '@atproto/oauth-scopes'
import { describe, expect, it } from 'vitest'
import { bundledLexicons, type LexiconSet, oauthScope, UsageError } from '../src/index.js'
import { generateTemp, repoRoot } from './support/codegen.js'
import { exampleLexiconDir } from './support/example-server.js'

/**
 * OAuth scope strings from the builder, read back by the protocol's own scope library
 * (`@atproto/oauth-scopes`, what the PDS checks requests with) as the oracle: what each scope allows,
 * and what it does not.
 */

const appview = 'did:web:api.bsky.app#bsky_appview'

describe('oauthScope', () => {
  it('starts from atproto and writes each permission as the PDS reads it', () => {
    const scope = oauthScope()
      .repo('app.bsky.feed.post', { action: ['create', 'delete'] })
      .repo(['app.bsky.feed.like', 'app.bsky.graph.follow'])
      .rpc('app.bsky.actor.getProfile', { aud: appview })
      .rpc(['app.bsky.feed.getTimeline', 'app.bsky.feed.getFeed'], { aud: appview })
      .blob('image/*', 'video/mp4')
      .account('email')
      .identity('handle')
      .transition('generic')
    const text = scope.toString()
    expect(text.split(' ')[0]).toBe('atproto')
    expect(JSON.stringify({ scope })).toBe(JSON.stringify({ scope: text }))

    const permissions = new ScopePermissions(text)
    expect(permissions.allowsRepo({ collection: 'app.bsky.feed.post', action: 'create' })).toBe(true)
    expect(permissions.allowsRepo({ collection: 'app.bsky.feed.post', action: 'delete' })).toBe(true)
    expect(permissions.allowsRepo({ collection: 'app.bsky.feed.post', action: 'update' })).toBe(false)
    for (const action of ['create', 'update', 'delete'] as const) {
      expect(permissions.allowsRepo({ collection: 'app.bsky.feed.like', action })).toBe(true)
      expect(permissions.allowsRepo({ collection: 'app.bsky.graph.follow', action })).toBe(true)
    }
    expect(permissions.allowsRepo({ collection: 'app.bsky.graph.block', action: 'create' })).toBe(false)
    expect(permissions.allowsRpc({ lxm: 'app.bsky.actor.getProfile', aud: appview })).toBe(true)
    expect(permissions.allowsRpc({ lxm: 'app.bsky.feed.getFeed', aud: appview })).toBe(true)
    expect(permissions.allowsRpc({ lxm: 'app.bsky.actor.getProfile', aud: 'did:web:evil.example#svc' })).toBe(false)
    expect(permissions.allowsRpc({ lxm: 'app.bsky.feed.searchPosts', aud: appview })).toBe(false)
    expect(permissions.allowsBlob({ mime: 'image/png' })).toBe(true)
    expect(permissions.allowsBlob({ mime: 'video/mp4' })).toBe(true)
    expect(permissions.allowsBlob({ mime: 'video/webm' })).toBe(false)
    expect(permissions.allowsAccount({ attr: 'email', action: 'read' })).toBe(true)
    expect(permissions.allowsAccount({ attr: 'email', action: 'manage' })).toBe(false)
    expect(permissions.allowsIdentity({ attr: 'handle' })).toBe(true)
    expect(permissions.scopes.has('transition:generic')).toBe(true)
  })

  it('writes wildcards, manage, include and any-service scopes the oracle accepts', () => {
    const text = oauthScope()
      .repo('*', { action: 'create' })
      .rpc('*', { aud: appview })
      .rpc('app.bsky.feed.getTimeline', { aud: '*' })
      .blob('*/*')
      .account('repo', { action: 'manage' })
      .identity('*')
      .include('com.example.authBasic', { aud: 'did:web:example.com#svc' })
      .toString()
    const permissions = new ScopePermissions(text)
    expect(permissions.allowsRepo({ collection: 'com.example.anything', action: 'create' })).toBe(true)
    expect(permissions.allowsRepo({ collection: 'com.example.anything', action: 'delete' })).toBe(false)
    expect(permissions.allowsRpc({ lxm: 'app.bsky.graph.getLists', aud: appview })).toBe(true)
    expect(permissions.allowsRpc({ lxm: 'app.bsky.feed.getTimeline', aud: 'did:web:other.example#x' })).toBe(true)
    expect(permissions.allowsBlob({ mime: 'application/pdf' })).toBe(true)
    expect(permissions.allowsAccount({ attr: 'repo', action: 'manage' })).toBe(true)
    expect(permissions.allowsIdentity({ attr: 'handle' })).toBe(true)
    expect(text).toContain('include:com.example.authBasic?aud=')
  })

  it('refuses what is no scope at all as it is added, naming it', () => {
    const bad: [string, () => unknown][] = [
      ['not an NSID', () => oauthScope().repo('not a collection' as never)],
      ['action', () => oauthScope().repo('app.bsky.feed.post', { action: 'upsert' as never })],
      ['aud', () => oauthScope().rpc('app.bsky.actor.getProfile', { aud: 'did:web:api.bsky.app' })],
      ['rpc:*?aud=*', () => oauthScope().rpc('*', { aud: '*' })],
      ['MIME', () => oauthScope().blob('images')],
      ['at least one', () => oauthScope().blob()],
      ['email, repo or status', () => oauthScope().account('password' as never)],
      ['handle or *', () => oauthScope().identity('did' as never)],
      ['generic', () => oauthScope().transition('everything' as never)],
    ]
    for (const [message, make] of bad) {
      expect(make, message).toThrow(UsageError)
      expect(make, message).toThrow(message)
    }
  })

  it('checks collections and methods against the lexicons: a repo scope for what is no record type is refused', async () => {
    await expect(
      oauthScope()
        .repo(['app.bsky.feed.post', 'app.bsky.graph.follow'])
        .rpc('app.bsky.actor.getProfile', { aud: appview })
        .check(bundledLexicons),
    ).resolves.toBeDefined()
    const error = await oauthScope()
      .repo('app.bsky.feed.getTimeline' as never)
      .repo('app.bsky.feed.nothing' as never)
      .rpc('app.bsky.feed.post', { aud: appview })
      .check(bundledLexicons)
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as Error).message).toContain('repo:app.bsky.feed.getTimeline is a query, not a record type')
    expect((error as Error).message).toContain('repo:app.bsky.feed.nothing is no record type of these lexicons')
    expect((error as Error).message).toContain('rpc:app.bsky.feed.post is a record, not a query or procedure')
  })

  it("checks an app's own records against its generated set beside the bundled one", async () => {
    const set = await generateTemp(exampleLexiconDir, { client: `${repoRoot}/src/index.ts`, bundled: true })
    const { lexicons } = (await import(`${set.dir}/client.ts`)) as { lexicons: LexiconSet }
    const scope = oauthScope()
      .repo(['com.example.note', 'app.bsky.feed.post'] as never)
      .rpc('com.example.getNote', { aud: 'did:web:example.com#example' })
    await expect(scope.check(bundledLexicons)).rejects.toThrow('repo:com.example.note is no record type')
    await expect(scope.check([bundledLexicons, lexicons])).resolves.toBe(scope)
  })
})

import type * as AppBskyActorDefs from '../../generated/app/bsky/actor/defs.js'
import type * as AppBskyActorProfile from '../../generated/app/bsky/actor/profile.js'
import type * as AppBskyFeedLike from '../../generated/app/bsky/feed/like.js'
import type * as AppBskyFeedPost from '../../generated/app/bsky/feed/post.js'
import type * as AppBskyFeedRepost from '../../generated/app/bsky/feed/repost.js'
import type * as AppBskyGraphBlock from '../../generated/app/bsky/graph/block.js'
import type * as AppBskyGraphFollow from '../../generated/app/bsky/graph/follow.js'
import type * as AppBskyRichtextFacet from '../../generated/app/bsky/richtext/facet.js'
import { RecordNotFoundError } from '../../generated/com/atproto/repo/getRecord.js'
import { InvalidSwapError } from '../../generated/com/atproto/repo/putRecord.js'
import type { Namespaces } from '../../generated/namespaces.js'
import type { XRPCClient } from '../client/xrpc-client.js'
import { UsageError } from '../runtime/errors.js'
import { isCid, isDid, parseAtUri } from '../runtime/schema/formats.js'
import type { BlobRef } from '../runtime/schema/types.js'
import { PostInputError } from './errors.js'
import { paginate } from './paginate.js'
import {
  type ExternalInput,
  type ImageInput,
  mediaLimits,
  type ReadMedia,
  readChecked,
  type VideoInput,
} from './post.js'
import { checkPostText, detectFacets } from './rich-text.js'

export { PostInputError } from './errors.js'
export type { ExternalInput, ImageInput, VideoInput } from './post.js'

/** A client that knows the bundled lexicons: a `Client`, or what `createClient` makes. */
export type BskyClient = XRPCClient & Namespaces

/** A record reference: what writes return and what likes, reposts, quotes and replies point at. */
export interface StrongRef {
  uri: string
  cid: string
}

export interface PostOptions {
  text: string
  /** Explicit facets; when absent, mentions, links and hashtags are detected in `text`. */
  facets?: AppBskyRichtextFacet.Main[]
  images?: ImageInput[]
  video?: VideoInput
  external?: ExternalInput
  /** A post to quote (with `images`, `video` or `external` too: a record-with-media embed). */
  quote?: StrongRef
  /** The post this replies to; the thread's root is found from it. */
  replyTo?: StrongRef
  langs?: string[]
  /** Self-labels (`porn`, `sexual`, `nudity`, `graphic-media`). */
  labels?: string[]
  tags?: string[]
  createdAt?: string | Date
}

/** A new object per client: `const bsky = bskyFacade(client)`. */
export function bskyFacade(client: BskyClient): BskyFacade {
  return new BskyFacade(client)
}

/**
 * Everyday Bluesky in one object: posting with rich text and media, social actions, reading, and
 * preferences. Everything it does goes through the client's generated API; it adds what is easy to
 * get wrong (facet byte offsets, reply refs, media limits, read-modify-write of profiles).
 */
export class BskyFacade {
  constructor(readonly client: BskyClient) {}

  private get did(): string {
    const did = this.client.did
    if (!did) throw new UsageError('Log in first: the client acts for no account (client.authenticate, or an auth)')
    return did
  }

  // --- posting --------------------------------------------------------------------------------

  /**
   * Creates a post. Everything is checked before anything is written (text length, media count,
   * types and sizes); media are uploaded, then the post is created (and checked against its lexicon
   * by the client, as every record it writes).
   */
  async post(options: PostOptions): Promise<StrongRef> {
    checkPostText(options.text)
    const media = await this.readPostMedia(options)
    const resolveHandle = (handle: string) => this.resolveHandle(handle).catch(() => undefined)
    const facets = options.facets ?? (await detectFacets(options.text, { resolveHandle }))
    const reply = options.replyTo && (await this.replyRefs(options.replyTo))
    const embed = await this.embed(options, media)
    const record: AppBskyFeedPost.Record = {
      $type: 'app.bsky.feed.post',
      text: options.text,
      ...(facets.length ? { facets } : {}),
      ...(reply ? { reply } : {}),
      ...(embed ? { embed } : {}),
      ...(options.langs ? { langs: options.langs } : {}),
      ...(options.labels?.length
        ? { labels: { $type: 'com.atproto.label.defs#selfLabels', values: options.labels.map((val) => ({ val })) } }
        : {}),
      ...(options.tags ? { tags: options.tags } : {}),
      createdAt: toDatetime(options.createdAt),
    }
    return this.create('app.bsky.feed.post', record)
  }

  /** Replies to `parent`; the root is the parent's root, or the parent itself. */
  reply(parent: StrongRef, textOrOptions: string | Omit<PostOptions, 'replyTo'>): Promise<StrongRef> {
    const options = typeof textOrOptions === 'string' ? { text: textOrOptions } : textOrOptions
    return this.post({ ...options, replyTo: parent })
  }

  quote(target: StrongRef, textOrOptions: string | Omit<PostOptions, 'quote'>): Promise<StrongRef> {
    const options = typeof textOrOptions === 'string' ? { text: textOrOptions } : textOrOptions
    return this.post({ ...options, quote: target })
  }

  async deletePost(uri: string): Promise<void> {
    await this.deleteByUri(uri, 'app.bsky.feed.post')
  }

  private async readPostMedia(
    options: PostOptions,
  ): Promise<{ images?: ReadMedia[]; video?: ReadMedia; thumb?: ReadMedia }> {
    const LIMITS = await mediaLimits()
    const kinds = [options.images?.length, options.video, options.external].filter(Boolean).length
    if (kinds > 1) throw new PostInputError('A post takes one of images, video or external (plus a quote)')
    if (options.images && options.images.length > LIMITS.images) {
      throw new PostInputError(`A post takes at most ${LIMITS.images} images, not ${options.images.length}`)
    }
    return {
      images:
        options.images &&
        (await Promise.all(
          options.images.map((image, i) => readChecked(image.data, LIMITS.image, `image ${i + 1}`, image.mimeType)),
        )),
      video: options.video && (await readChecked(options.video.data, LIMITS.video, 'video')),
      thumb:
        options.external?.thumb !== undefined
          ? await readChecked(options.external.thumb, LIMITS.thumb, 'thumbnail')
          : undefined,
    }
  }

  private async embed(
    options: PostOptions,
    media: Awaited<ReturnType<BskyFacade['readPostMedia']>>,
  ): Promise<AppBskyFeedPost.Record['embed']> {
    let mediaEmbed:
      | {
          $type: 'app.bsky.embed.images'
          images: { image: BlobRef; alt: string; aspectRatio?: { width: number; height: number } }[]
        }
      | { $type: 'app.bsky.embed.video'; video: BlobRef; alt?: string; aspectRatio?: { width: number; height: number } }
      | {
          $type: 'app.bsky.embed.external'
          external: { uri: string; title: string; description: string; thumb?: BlobRef }
        }
      | undefined
    if (media.images) {
      const blobs = await Promise.all(media.images.map((image) => this.upload(image)))
      mediaEmbed = {
        $type: 'app.bsky.embed.images',
        images: options.images!.map((image, i) => ({
          image: blobs[i],
          alt: image.alt,
          ...((image.aspectRatio ?? media.images![i].aspectRatio)
            ? { aspectRatio: image.aspectRatio ?? media.images![i].aspectRatio }
            : {}),
        })),
      }
    } else if (media.video) {
      const video = options.video!
      mediaEmbed = {
        $type: 'app.bsky.embed.video',
        video: await this.upload(media.video),
        ...(video.alt ? { alt: video.alt } : {}),
        ...(video.aspectRatio ? { aspectRatio: video.aspectRatio } : {}),
      }
    } else if (options.external) {
      const { uri, title, description } = options.external
      mediaEmbed = {
        $type: 'app.bsky.embed.external',
        external: { uri, title, description, ...(media.thumb ? { thumb: await this.upload(media.thumb) } : {}) },
      }
    }
    if (!options.quote) return mediaEmbed
    const record = {
      $type: 'app.bsky.embed.record' as const,
      record: { uri: options.quote.uri, cid: options.quote.cid },
    }
    if (!mediaEmbed) return record
    if (mediaEmbed.$type === 'app.bsky.embed.external')
      throw new PostInputError('A quote post takes images or a video, not a link card')
    return { $type: 'app.bsky.embed.recordWithMedia', record: { record: record.record }, media: mediaEmbed }
  }

  private async upload(media: ReadMedia): Promise<BlobRef> {
    const response = await this.client.com.atproto.repo.uploadBlob(media.bytes, { encoding: media.mimeType })
    return response.blob
  }

  /** The reply refs for a parent post: its own root if it is a reply, else itself. */
  private async replyRefs(parent: StrongRef): Promise<AppBskyFeedPost.ReplyRef> {
    const { authority: repo, collection, rkey } = recordUri(parent.uri, 'app.bsky.feed.post')
    const record = await this.client.com.atproto.repo.getRecord({ repo, collection, rkey, cid: parent.cid })
    const value = record.value as Partial<AppBskyFeedPost.Record>
    const root = value.reply?.root ?? { uri: parent.uri, cid: parent.cid }
    return { root: { uri: root.uri, cid: root.cid }, parent: { uri: parent.uri, cid: parent.cid } }
  }

  // --- social ---------------------------------------------------------------------------------

  /** Likes a post (or any record): by its strong ref (`{ uri, cid }`, what `post` returns), or `(uri, cid)`. */
  async like(subject: StrongRef | string, cid?: string): Promise<StrongRef> {
    return this.create('app.bsky.feed.like', {
      $type: 'app.bsky.feed.like',
      subject: strongRef(subject, cid),
      createdAt: toDatetime(),
    })
  }

  /** Removes a like: the like's URI (as `like` returned, or a post view's `viewer.like`). */
  async unlike(likeUri: string): Promise<void> {
    await this.deleteByUri(likeUri, 'app.bsky.feed.like')
  }

  /** Reposts a post: by its strong ref, or `(uri, cid)`. */
  async repost(subject: StrongRef | string, cid?: string): Promise<StrongRef> {
    return this.create('app.bsky.feed.repost', {
      $type: 'app.bsky.feed.repost',
      subject: strongRef(subject, cid),
      createdAt: toDatetime(),
    })
  }

  async unrepost(repostUri: string): Promise<void> {
    await this.deleteByUri(repostUri, 'app.bsky.feed.repost')
  }

  /** Follows an account (handle or DID). An unknown handle is an error, and nothing is written. */
  async follow(actor: string): Promise<StrongRef> {
    const subject = await this.resolveActor(actor)
    return this.create('app.bsky.graph.follow', { $type: 'app.bsky.graph.follow', subject, createdAt: toDatetime() })
  }

  /** Unfollows: by the follow record's URI, or by the account (handle or DID). */
  async unfollow(actorOrFollowUri: string): Promise<void> {
    await this.removeSubjectRecords('app.bsky.graph.follow', actorOrFollowUri)
  }

  async block(actor: string): Promise<StrongRef> {
    const subject = await this.resolveActor(actor)
    return this.create('app.bsky.graph.block', { $type: 'app.bsky.graph.block', subject, createdAt: toDatetime() })
  }

  async unblock(actorOrBlockUri: string): Promise<void> {
    await this.removeSubjectRecords('app.bsky.graph.block', actorOrBlockUri)
  }

  /** Mutes an account (private: kept by the AppView, not in the repo). */
  async mute(actor: string): Promise<void> {
    await this.client.app.bsky.graph.muteActor({ actor })
  }

  async unmute(actor: string): Promise<void> {
    await this.client.app.bsky.graph.unmuteActor({ actor })
  }

  /** Mutes a thread by its root post's URI. */
  async muteThread(root: string): Promise<void> {
    await this.client.app.bsky.graph.muteThread({ root })
  }

  async unmuteThread(root: string): Promise<void> {
    await this.client.app.bsky.graph.unmuteThread({ root })
  }

  /**
   * Read-modify-write of the profile: `update` gets the current profile (or undefined) and returns
   * the new one. Written with `swapRecord`, so a concurrent change is never overwritten: on a
   * conflict the profile is read again and `update` runs again (up to `attempts` times).
   */
  async upsertProfile(
    update: (
      existing: AppBskyActorProfile.Record | undefined,
    ) => AppBskyActorProfile.Record | Promise<AppBskyActorProfile.Record>,
    attempts = 5,
  ): Promise<StrongRef> {
    const repo = this.did
    for (let attempt = 1; ; attempt++) {
      const current = await this.client.com.atproto.repo
        .getRecord({ repo, collection: 'app.bsky.actor.profile', rkey: 'self' })
        .catch((error: unknown) => {
          if (error instanceof RecordNotFoundError) return undefined
          throw error
        })
      const next = await update(current ? structuredClone(current.value as AppBskyActorProfile.Record) : undefined)
      try {
        const written = await this.client.com.atproto.repo.putRecord({
          repo,
          collection: 'app.bsky.actor.profile',
          rkey: 'self',
          record: { ...next, $type: 'app.bsky.actor.profile' },
          swapRecord: current?.cid ?? null,
        })
        return { uri: written.uri, cid: written.cid }
      } catch (error) {
        if (!(error instanceof InvalidSwapError) || attempt >= attempts) throw error
      }
    }
  }

  // --- reading (each returns the awaitable request, so it also works with `paginate`) ------------

  getProfile(actor: string) {
    return this.client.app.bsky.actor.getProfile({ actor })
  }
  getProfiles(actors: string[]) {
    return this.client.app.bsky.actor.getProfiles({ actors })
  }
  getTimeline(params: { limit?: number; cursor?: string; algorithm?: string } = {}) {
    return this.client.app.bsky.feed.getTimeline(params)
  }
  getAuthorFeed(
    actor: string,
    params: { limit?: number; cursor?: string; filter?: string; includePins?: boolean } = {},
  ) {
    return this.client.app.bsky.feed.getAuthorFeed({ actor, ...params })
  }
  getPostThread(uri: string, params: { depth?: number; parentHeight?: number } = {}) {
    return this.client.app.bsky.feed.getPostThread({ uri, ...params })
  }
  getFollowers(actor: string, params: { limit?: number; cursor?: string } = {}) {
    return this.client.app.bsky.graph.getFollowers({ actor, ...params })
  }
  getFollows(actor: string, params: { limit?: number; cursor?: string } = {}) {
    return this.client.app.bsky.graph.getFollows({ actor, ...params })
  }
  getLikes(uri: string, params: { limit?: number; cursor?: string; cid?: string } = {}) {
    return this.client.app.bsky.feed.getLikes({ uri, ...params })
  }
  getRepostedBy(uri: string, params: { limit?: number; cursor?: string; cid?: string } = {}) {
    return this.client.app.bsky.feed.getRepostedBy({ uri, ...params })
  }
  searchPosts(q: string, params: { limit?: number; cursor?: string; sort?: string; author?: string } = {}) {
    return this.client.app.bsky.feed.searchPosts({ q, ...params })
  }
  searchActors(q: string, params: { limit?: number; cursor?: string } = {}) {
    return this.client.app.bsky.actor.searchActors({ q, ...params })
  }
  listNotifications(params: { limit?: number; cursor?: string; reasons?: string[] } = {}) {
    return this.client.app.bsky.notification.listNotifications(params)
  }

  /** The DID of a handle. */
  async resolveHandle(handle: string): Promise<string> {
    const response = await this.client.com.atproto.identity.resolveHandle({ handle: handle.replace(/^@/, '') })
    return response.did
  }

  // --- preferences ------------------------------------------------------------------------------

  async getPreferences(): Promise<AppBskyActorDefs.Preferences> {
    return (await this.client.app.bsky.actor.getPreferences()).preferences
  }

  async putPreferences(preferences: AppBskyActorDefs.Preferences): Promise<void> {
    await this.client.app.bsky.actor.putPreferences({ preferences })
  }

  /** Adds a feed (`at://…/app.bsky.feed.generator/…`) or list to the saved feeds, pinned or not. */
  async addSavedFeed(uri: string, options: { pinned?: boolean; type?: 'feed' | 'list' } = {}): Promise<void> {
    await this.updatePreference('app.bsky.actor.defs#savedFeedsPrefV2', (pref) => {
      const items = (pref?.items as AppBskyActorDefs.SavedFeed[] | undefined) ?? []
      if (items.some((item) => item.value === uri)) return pref!
      return {
        items: [...items, { id: newId(), type: options.type ?? 'feed', value: uri, pinned: options.pinned ?? false }],
      }
    })
  }

  /** Mutes a word or tag (in text and tags by default). */
  async addMutedWord(
    value: string,
    options: { targets?: ('content' | 'tag')[]; expiresAt?: Date } = {},
  ): Promise<void> {
    await this.updatePreference('app.bsky.actor.defs#mutedWordsPref', (pref) => {
      const items = (pref?.items as AppBskyActorDefs.MutedWord[] | undefined) ?? []
      const word = value.replace(/^#/, '')
      if (items.some((item) => item.value === word)) return pref!
      const added: AppBskyActorDefs.MutedWord = {
        id: newId(),
        value: word,
        targets: options.targets ?? ['content', 'tag'],
        ...(options.expiresAt ? { expiresAt: options.expiresAt.toISOString() } : {}),
      }
      return { items: [...items, added] }
    })
  }

  private async updatePreference(
    $type: string,
    update: (pref: Record<string, unknown> | undefined) => Record<string, unknown>,
  ): Promise<void> {
    const preferences = await this.getPreferences()
    const index = preferences.findIndex((pref) => pref.$type === $type)
    const next = { ...update(index >= 0 ? (preferences[index] as Record<string, unknown>) : undefined), $type }
    const updated = [...preferences]
    updated.splice(index >= 0 ? index : updated.length, index >= 0 ? 1 : 0, next as never)
    await this.putPreferences(updated)
  }

  // --- chat ---------------------------------------------------------------------------------------

  /** `chat.bsky.*`, sent through the chat service proxy (`atproto-proxy`) for you. */
  get chat() {
    return this.client.chat.bsky
  }

  // --- helpers --------------------------------------------------------------------------------

  private async create<C extends keyof FacadeRecords>(collection: C, record: FacadeRecords[C]): Promise<StrongRef> {
    // Checked by the client against the collection's lexicon before anything is sent.
    const created = await this.client.com.atproto.repo.createRecord({
      repo: this.did,
      collection: collection as string,
      record,
    })
    return { uri: created.uri, cid: created.cid }
  }

  private async deleteByUri(uri: string, expected: string): Promise<void> {
    const { authority: repo, collection, rkey } = recordUri(uri, expected)
    await this.client.com.atproto.repo.deleteRecord({ repo, collection, rkey })
  }

  private async resolveActor(actor: string): Promise<string> {
    if (isDid(actor)) return actor
    try {
      return await this.resolveHandle(actor)
    } catch (error) {
      throw new PostInputError(`Unknown account ${actor}: ${(error as Error).message}`)
    }
  }

  /** Deletes the records of a collection pointing at an account, or the one record a URI names. */
  private async removeSubjectRecords(collection: string, actorOrUri: string): Promise<void> {
    if (actorOrUri.startsWith('at://')) return this.deleteByUri(actorOrUri, collection)
    const subject = await this.resolveActor(actorOrUri)
    const records = paginate(this.client.com.atproto.repo.listRecords({ repo: this.did, collection, limit: 100 }))
    for await (const record of records) {
      if ((record.value as { subject?: unknown }).subject === subject) await this.deleteByUri(record.uri, collection)
    }
  }
}

type FacadeRecords = {
  'app.bsky.feed.post': AppBskyFeedPost.Record
  'app.bsky.feed.like': AppBskyFeedLike.Record
  'app.bsky.feed.repost': AppBskyFeedRepost.Record
  'app.bsky.graph.follow': AppBskyGraphFollow.Record
  'app.bsky.graph.block': AppBskyGraphBlock.Record
}

/** A strong ref from `{ uri, cid }` or `(uri, cid)`, both checked: a like of nothing is refused, not written. */
function strongRef(subject: StrongRef | string, cid?: string): StrongRef {
  const ref = typeof subject === 'string' ? { uri: subject, cid } : { uri: subject?.uri, cid: subject?.cid }
  if (typeof ref.uri !== 'string' || !parseAtUri(ref.uri)?.rkey)
    throw new PostInputError(`${JSON.stringify(ref.uri)} is not the AT URI of a record`)
  if (typeof ref.cid !== 'string' || !isCid(ref.cid))
    throw new PostInputError(`${JSON.stringify(ref.cid)} is not a CID (give a strong ref, or the URI and the CID)`)
  return { uri: ref.uri, cid: ref.cid }
}

/** The parts of a record's AT URI, which must be of `collection`. */
function recordUri(uri: string, collection: string): { authority: string; collection: string; rkey: string } {
  const parts = parseAtUri(uri)
  if (!parts?.rkey || parts.collection !== collection)
    throw new PostInputError(`${JSON.stringify(uri)} is not the AT URI of an ${collection} record`)
  return parts as { authority: string; collection: string; rkey: string }
}

/** A preference item id, unique enough within one account's preferences. */
function newId(): string {
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 8)
}

function toDatetime(value?: string | Date): string {
  return value === undefined ? new Date().toISOString() : typeof value === 'string' ? value : value.toISOString()
}

/**
 * Moderation policy: what a new comment's status is, from the site's defaults and the post's
 * own settings (stored in the database, so every instance agrees).
 */
import type { CommentStatus } from '../../src/data/api-types.js';
import type { ModerationPolicy, ModerationSettings, Store } from '../store/store.js';

/** The demo site and every new site publish at once, as the seed blog did. */
export const DEFAULT_POLICY: ModerationPolicy = 'publish';

export const POLICIES: readonly ModerationPolicy[] = ['publish', 'hold-first-time', 'hold-all'];

/** A post's settings with the site's defaults filled in. */
export interface EffectiveModeration {
  policy: ModerationPolicy;
  maxLinks: number;
  closed: boolean;
}

/** The post's own settings over the site's, over the server's defaults. */
export function effective(
  site: ModerationSettings,
  post: ModerationSettings,
  defaultMaxLinks: number,
): EffectiveModeration {
  return {
    policy: post.policy ?? site.policy ?? DEFAULT_POLICY,
    maxLinks: post.maxLinks ?? site.maxLinks ?? defaultMaxLinks,
    // Closing is per post; a site-wide close is not offered (yet).
    closed: post.closed,
  };
}

export async function moderationOf(
  store: Store,
  siteId: string,
  postUrl: string,
  defaultMaxLinks: number,
): Promise<EffectiveModeration> {
  const [site, post] = await Promise.all([
    store.moderationSettings(siteId, null),
    store.moderationSettings(siteId, postUrl),
  ]);
  return effective(site, post, defaultMaxLinks);
}

/** The http(s) links in a text, as the widget would make them (and bare `www.` names). */
export function countLinks(text: string): number {
  return text.match(/\bhttps?:\/\/[^\s<>"]+|\bwww\.[^\s<>"]+\.[a-z]{2,}/gi)?.length ?? 0;
}

export interface NewCommentFacts {
  siteId: string;
  body: string;
  /** The signed-in writer, else null. */
  userId: string | null;
  /** The guest's email (for a signed-in writer it is not what identifies them). */
  email: string | null;
  /** The hidden field: filled in, the comment is kept as spam. */
  honeypot?: string | undefined;
  /** How long the writer took, as the widget measured it (absent from other clients). */
  writingMs?: number | undefined;
  /** Below this many milliseconds of writing, the comment waits. */
  minWritingMs: number;
  /** Whether the writer owns the site (owners are never held); asked only when it matters. */
  owner: () => Promise<boolean>;
}

/** `published`, `pending` or (the hidden field filled in) `spam` for a new comment. */
export async function statusFor(
  store: Store,
  moderation: EffectiveModeration,
  facts: NewCommentFacts,
): Promise<CommentStatus> {
  const trapped = Boolean(facts.honeypot);
  let hold =
    trapped ||
    moderation.policy === 'hold-all' ||
    countLinks(facts.body) > moderation.maxLinks ||
    (facts.writingMs !== undefined && facts.writingMs < facts.minWritingMs);
  if (!hold && moderation.policy === 'hold-first-time') {
    const author = facts.userId ? { userId: facts.userId, email: null } : { userId: null, email: facts.email };
    hold = !(await store.hasPublishedComment(facts.siteId, author));
  }
  if (!hold || (facts.userId && (await facts.owner()))) return 'published';
  return trapped ? 'spam' : 'pending';
}

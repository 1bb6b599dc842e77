/**
 * What the owner tools add to posting a comment, after the site's policy has given its status:
 * blocks (403 `blocked`; never for the site's owners), the optional Akismet check (spam, or held when Akismet gives no
 * verdict), and the writer's address, kept with the comment unless the site keeps none.
 * A retry of a comment already stored (same idempotency key) is neither refused nor checked
 * again: it gets its first answer.
 */
import type { CommentStatus } from '../../src/data/api-types.js';
import type { Store } from '../store/store.js';
import { akismetOf, type Akismet, type AkismetComment } from './akismet.js';
import { refuseBlocked, type Writer } from './blocks.js';

/** Days a commenter's address is kept when the site sets nothing. */
export const DEFAULT_IP_RETENTION_DAYS = 30;

/** Longest retention an owner may set. */
export const IP_RETENTION_MAX_DAYS = 3650;

export interface ScreenInput extends Writer {
  siteId: string;
  /** The status the site's policy gave. */
  status: CommentStatus;
  /** Whether this request repeats one already stored. */
  replay: () => Promise<boolean>;
  /** Whether the (signed-in) writer owns the site: owners are not checked with Akismet. */
  owner: () => Promise<boolean>;
  /** The comment as Akismet sees it. */
  comment: AkismetComment;
}

export interface Screened {
  status: CommentStatus;
  /** The address to store with the comment, or null when the site keeps none. */
  authorIp: string | null;
}

export async function screenNewComment(store: Store, akismet: Akismet | undefined, input: ScreenInput): Promise<Screened> {
  const [settings] = await Promise.all([
    store.spamSettings(input.siteId),
    // A site's own owners are never refused (they may share a blocked address).
    refuseBlocked(store, input.siteId, input).catch(async (error: unknown) => {
      if (!(await input.replay()) && !(input.userId && (await input.owner()))) throw error;
    }),
  ]);
  const authorIp = settings.ipRetentionDays === 0 ? null : input.address;
  const credentials = akismetOf(settings);
  if (!akismet || !credentials || input.status === 'spam') return { status: input.status, authorIp };
  if ((input.userId && (await input.owner())) || (await input.replay())) return { status: input.status, authorIp };
  const verdict = await akismet.check(credentials, input.comment);
  return { status: verdict === 'spam' ? 'spam' : verdict === 'unknown' ? 'pending' : input.status, authorIp };
}

/**
 * Every string a person sees, in one catalog per language: English here, in the bundle; the
 * others (`src/i18n/de.json`, `ar.json`) fetched from the comment server when first needed. Placeholders are
 * `{name}`; numbers are formatted with `Intl.NumberFormat` and plural forms are chosen with
 * `Intl.PluralRules`, so a translation only lists the forms its language has.
 */

/** Plural forms of one message; `other` is required, the rest as the language needs them. */
export type Plural = { [K in Intl.LDMLPluralRule]?: string } & { other: string };

export interface Messages {
  /** Heading when the post has no responses. */
  noResponses: string;
  /** Heading: `{n}` responses, `{title}` of the post. */
  responses: Plural;
  /** Live comments waiting to be shown: a button the reader presses. */
  newResponses: Plural;
  /** `{name}` is the author (a link when they gave a website). */
  says: string;
  /** `{blog}` is a link to the reblog. */
  rebloggedOn: string;
  reply: string;
  /** Composer heading while replying; `{name}` is the replied-to author. */
  replyTo: string;
  cancelReply: string;
  leaveReply: string;
  /** Label of the comment textarea. */
  comment: string;
  postComment: string;
  loading: string;
  loadFailed: string;
  retry: string;
  olderComments: string;
  sending: string;
  posted: string;
  pending: string;
  unreachable: string;
  /** A queued comment that will be sent again automatically. */
  waiting: string;
  /** A queued comment the server refused; `{reason}` is the server's sentence. */
  notPosted: string;
  /** The reason shown when a comment stayed unsent for 30 days. */
  expired: string;
  edit: string;
  discard: string;
  /** IndexedDB is unusable: pending comments live only in this page. */
  notDurable: string;
  /** The composer's reply-notification choice (servers that send email). */
  notifyReplies: string;
  fillIn: string;
  name: string;
  email: string;
  website: string;
  saveDetails: string;
  bodyRequired: string;
  bodyTooLong: string;
  nameRequired: string;
  emailRequired: string;
  emailInvalid: string;
  websiteInvalid: string;
  /** A guest field over its limit of `{max}` characters. */
  tooLong: string;
  // <reblog-button>
  reblog: string;
  reblogTitle: string;
  reblogSignIn: string;
  reblogLoading: string;
  reblogOn: string;
  reblogAddress: string;
  reblogCommentary: string;
  reblogConfirm: string;
  reblogCancel: string;
  reblogChoose: string;
  /** `{blog}` is a link to the reblog. */
  reblogDone: string;
  reblogUndo: string;
  delete: string;
  save: string;
  cancel: string;
  /** Label of the textarea that edits one's own comment. */
  editLabel: string;
  /** The inline question before deleting one's own comment. */
  confirmDelete: string;
  /** After the date of a changed comment (its title is the edit time). */
  edited: string;
  /** In place of a deleted comment that has replies. */
  deleted: string;
  /** "N bloggers like this:" above the likers' avatars. */
  likers: Plural;
  /** No likes yet. */
  likeFirst: string;
  /** The Like button (a toggle) of the post and of each comment. */
  like: string;
  /** Likers beyond the avatars shown. */
  moreLikers: string;
  /** A signed-out reader pressed Like. */
  likeSignIn: string;
  likeFailed: string;
  /** In place of the composer on a post that takes no new comments. */
  closed: string;
  // <reblog-button>'s share menu
  share: string;
  shareVia: string;
  shareCopy: string;
  shareCopied: string;
  shareCopyManual: string;
  shareLink: string;
  shareServer: string;
  shareServerInvalid: string;
  shareMastodon: string;
  shareBluesky: string;
  /** The Report button of a response, its reason's label, its submit, and the thanks after it. */
  report: string;
  reportReason: string;
  send: string;
  reportThanks: string;
  /** Beside a response the blog owner pinned to the top. */
  pinned: string;
}

const en: Messages = {
  noResponses: 'No responses yet',
  responses: { one: 'One Response to “{title}”', other: '{n} Responses to “{title}”' },
  newResponses: { one: 'Show 1 new response', other: 'Show {n} new responses' },
  says: '{name} Says:',
  rebloggedOn: 'Reblogged this on {blog}.',
  reply: 'Reply',
  replyTo: 'Reply to {name}',
  cancelReply: 'Cancel reply',
  leaveReply: 'Leave a Reply',
  comment: 'Comment',
  postComment: 'Post Comment',
  loading: 'Loading comments…',
  loadFailed: 'Comments could not be loaded.',
  retry: 'Retry',
  olderComments: 'Older comments',
  sending: 'Sending…',
  posted: 'Your comment was posted.',
  pending: 'Your comment is awaiting moderation.',
  unreachable: 'Couldn’t reach the server.',
  waiting: 'Waiting for connection — will send automatically',
  notPosted: 'Couldn’t post: {reason}',
  expired: 'not sent for 30 days',
  edit: 'Edit',
  discard: 'Discard',
  notDurable: 'This browser cannot store comments: one not yet sent will be lost if you close the page.',
  notifyReplies: 'Notify me of follow-up comments by email.',
  fillIn: 'Fill in your details below or click an icon to log in:',
  name: 'Name (required)',
  email: 'Email (required, never shown)',
  website: 'Website',
  saveDetails: 'Save my name, email, and website in this browser for the next time I comment.',
  bodyRequired: 'Please write a comment.',
  bodyTooLong: 'Your comment is too long ({n} characters; the limit is {max}).',
  nameRequired: 'Please enter your name.',
  emailRequired: 'Please enter your email address.',
  emailInvalid: 'Please enter a valid email address.',
  websiteInvalid: 'A website address starts with http:// or https://.',
  tooLong: 'This can be at most {max} characters long.',
  reblog: 'Reblog',
  reblogTitle: 'Reblog this post',
  reblogSignIn: 'Sign in to reblog this on your blog.',
  reblogLoading: 'Loading your blogs…',
  reblogOn: 'Reblog on',
  reblogAddress: 'Your blog’s address',
  reblogCommentary: 'Commentary (optional)',
  reblogConfirm: 'Confirm',
  reblogCancel: 'Cancel',
  reblogChoose: 'Choose one of your blogs or enter its address.',
  reblogDone: 'Reblogged on {blog}.',
  reblogUndo: 'Undo',
  delete: 'Delete',
  save: 'Save',
  cancel: 'Cancel',
  editLabel: 'Edit your comment',
  confirmDelete: 'Delete this comment?',
  edited: '(edited)',
  deleted: 'This comment was deleted.',
  likers: { one: 'One blogger likes this:', other: '{n} bloggers like this:' },
  likeFirst: 'Be the first to like this.',
  like: 'Like',
  moreLikers: '+ {n} more',
  likeSignIn: 'Log in below to like this.',
  likeFailed: 'Your like was not saved. Please try again.',
  closed: 'Comments are closed.',
  share: 'Share',
  shareVia: 'Share…',
  shareCopy: 'Copy link',
  shareCopied: 'Link copied',
  shareCopyManual: 'Copy the selected link.',
  shareLink: 'Link',
  shareServer: 'Your Mastodon server',
  shareServerInvalid: 'Enter a server name such as mastodon.social.',
  shareMastodon: 'Share on Mastodon',
  shareBluesky: 'Share on Bluesky',
  report: 'Report',
  reportReason: 'What is wrong with it? (optional)',
  send: 'Send',
  reportThanks: 'Thanks — the blog owner will review it.',
  pinned: 'Pinned',
};

/**
 * Languages shipped beside the bundle, not in it: `src/i18n/<lang>.json`, built to
 * `dist/i18n/<lang>.json` and served by the comment server. Until one has loaded (or if it
 * cannot be), English is spoken.
 */
export const SHIPPED = ['de', 'ar'];
const catalogs: Record<string, Messages> = { en };
const loading = new Map<string, Promise<boolean>>();
const RTL = new Set(['ar', 'he', 'fa', 'ur']);

/**
 * Fetches a shipped language's catalog from `server`, once per server and language; resolves
 * whether it is loaded. Resolves false at once for English, unshipped languages and no server.
 */
export function loadCatalog(lang: string, server: string | null): Promise<boolean> {
  const base = canonical(lang).split('-')[0]!;
  if (catalogs[base]) return Promise.resolve(true);
  if (!server || !SHIPPED.includes(base)) return Promise.resolve(false);
  const key = `${server} ${base}`;
  let pending = loading.get(key);
  if (!pending) {
    pending = fetch(`${server}/i18n/${base}.json`, { credentials: 'omit' })
      .then((response) => (response.ok ? response.json() : null))
      .then((messages: Messages | null) => {
        if (!messages?.responses?.other) return false;
        catalogs[base] = { ...en, ...messages };
        cache.clear();
        return true;
      })
      .catch(() => false);
    loading.set(key, pending);
  }
  return pending;
}

/** Keys of plural messages. */
export type PluralKey = 'responses' | 'newResponses' | 'likers';
/** Keys of single (non-plural) messages. */
export type MessageKey = Exclude<keyof Messages, PluralKey>;

/** Values for placeholders: numbers are formatted for the language, anything else kept as is. */
export type Values = Record<string, unknown>;

export class Localizer {
  /** The BCP 47 tag used for `Intl` (the requested one if its language is shipped, else `en`). */
  readonly lang: string;
  readonly dir: 'ltr' | 'rtl';
  readonly messages: Messages;
  #plural: Intl.PluralRules;
  #number: Intl.NumberFormat;

  constructor(requested: string) {
    const tag = canonical(requested);
    const base = tag.split('-')[0]!;
    this.messages = catalogs[base] ?? en;
    this.lang = catalogs[base] ? tag : 'en';
    this.dir = RTL.has(base) && catalogs[base] ? 'rtl' : 'ltr';
    this.#plural = new Intl.PluralRules(this.lang);
    this.#number = new Intl.NumberFormat(this.lang);
  }

  /** A message as a string, placeholders filled. */
  t(key: MessageKey, values: Values = {}): string {
    return this.parts(this.messages[key], values).join('');
  }

  /** The plural form of `key` for `n` (also available as `{n}`), split as `parts()` does. */
  plural(key: PluralKey, n: number, values: Values = {}): unknown[] {
    const forms = this.messages[key];
    return this.parts(forms[this.#plural.select(n)] ?? forms.other, { ...values, n });
  }

  /**
   * A message split around its placeholders, for templates: `parts('{name} Says:', {name: link})`
   * is `[link, ' Says:']`, so a placeholder can be an element without building HTML.
   */
  parts(message: string, values: Values): unknown[] {
    return message
      .split(/\{(\w+)\}/)
      .map((piece, i) => {
        if (i % 2 === 0) return piece;
        const value = values[piece];
        return typeof value === 'number' ? this.#number.format(value) : value;
      })
      .filter((piece) => piece !== '');
  }
}

function canonical(tag: string): string {
  try {
    return Intl.getCanonicalLocales(tag.trim())[0] ?? 'en';
  } catch {
    return 'en';
  }
}

const cache = new Map<string, Localizer>();

/**
 * The (cached) localizer for a language tag. A shipped language not loaded yet is fetched from
 * `server`; `loaded` is called once it is there (English is spoken meanwhile).
 */
export function localizer(lang: string, server: string | null = null, loaded?: () => void): Localizer {
  const base = canonical(lang).split('-')[0]!;
  if (!catalogs[base] && SHIPPED.includes(base)) void loadCatalog(lang, server).then((ok) => ok && loaded?.());
  let found = cache.get(lang);
  if (!found) cache.set(lang, (found = new Localizer(lang)));
  return found;
}

/**
 * The language an element should speak: its own `lang` attribute, else the closest ancestor's
 * `lang` (across shadow roots), else `<html lang>`, else the browser's.
 */
export function langOf(element: Element): string {
  let node: Element | null = element;
  while (node) {
    const found: Element | null = node.closest('[lang]:not([lang=""])');
    if (found) return found.getAttribute('lang')!;
    const root = node.getRootNode();
    node = root instanceof ShadowRoot ? root.host : null;
  }
  return navigator.language || 'en';
}

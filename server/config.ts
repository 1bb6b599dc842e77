/**
 * Limits and their safe defaults. Every limit can be set by environment (see `limitsFromEnv`)
 * or by `buildApp` options, so a benchmark can raise the write rate instead of measuring 429s.
 */
export interface Limits {
  /** Longest comment body, in characters (code points). */
  bodyMaxChars: number;
  nameMaxChars: number;
  websiteMaxChars: number;
  emailMaxChars: number;
  /** Longest page title stored with a post. */
  titleMaxChars: number;
  /** Longest post URL. */
  postUrlMaxChars: number;
  /** Deepest reply: a top-level comment has depth 0. */
  maxDepth: number;
  /** Largest request body, in bytes (413 above). */
  requestMaxBytes: number;
  /** Largest `page-size` a reader may ask for. */
  pageSizeMax: number;
  pageSizeDefault: number;
  /** Comment writes per client address per minute. */
  writesPerMinute: number;
  /** Open live-update streams this instance serves at once (503 above). */
  liveStreamsMax: number;
  /** How long a sign-in session lasts, in seconds. */
  sessionMaxAgeSeconds: number;
  /** How long after posting its author may edit or delete a comment, in seconds. */
  editWindowSeconds: number;
  /** Sign-in starts and email-link requests per client address per minute. */
  signInsPerMinute: number;
  /** New dynamic client registrations (Mastodon instances) per minute, whole instance. */
  registrationsPerMinute: number;
  /** A comment with more links than this waits for moderation (a site or post may set its own). */
  linksMax: number;
  /**
   * A comment whose writer took less than this (from focusing the composer to sending, as the
   * widget measures it) waits for moderation. 0 turns the check off.
   */
  minWritingSeconds: number;
}

export const defaultLimits: Limits = {
  bodyMaxChars: 10_000,
  nameMaxChars: 100,
  websiteMaxChars: 2_000,
  emailMaxChars: 254,
  titleMaxChars: 300,
  postUrlMaxChars: 2_000,
  maxDepth: 5,
  requestMaxBytes: 64 * 1024,
  pageSizeMax: 1_000,
  pageSizeDefault: 50,
  writesPerMinute: 30,
  liveStreamsMax: 10_000,
  sessionMaxAgeSeconds: 30 * 24 * 3600,
  editWindowSeconds: 15 * 60,
  signInsPerMinute: 20,
  registrationsPerMinute: 10,
  linksMax: 2,
  minWritingSeconds: 3,
};

const envNames: Record<keyof Limits, string> = {
  bodyMaxChars: 'BLOGTALK_BODY_MAX_CHARS',
  nameMaxChars: 'BLOGTALK_NAME_MAX_CHARS',
  websiteMaxChars: 'BLOGTALK_WEBSITE_MAX_CHARS',
  emailMaxChars: 'BLOGTALK_EMAIL_MAX_CHARS',
  titleMaxChars: 'BLOGTALK_TITLE_MAX_CHARS',
  postUrlMaxChars: 'BLOGTALK_POST_URL_MAX_CHARS',
  maxDepth: 'BLOGTALK_MAX_DEPTH',
  requestMaxBytes: 'BLOGTALK_REQUEST_MAX_BYTES',
  pageSizeMax: 'BLOGTALK_PAGE_SIZE_MAX',
  pageSizeDefault: 'BLOGTALK_PAGE_SIZE_DEFAULT',
  writesPerMinute: 'BLOGTALK_WRITES_PER_MINUTE',
  liveStreamsMax: 'BLOGTALK_LIVE_STREAMS_MAX',
  sessionMaxAgeSeconds: 'BLOGTALK_SESSION_MAX_AGE_SECONDS',
  editWindowSeconds: 'BLOGTALK_EDIT_WINDOW_SECONDS',
  signInsPerMinute: 'BLOGTALK_SIGN_INS_PER_MINUTE',
  registrationsPerMinute: 'BLOGTALK_REGISTRATIONS_PER_MINUTE',
  linksMax: 'BLOGTALK_LINKS_MAX',
  minWritingSeconds: 'BLOGTALK_MIN_WRITING_SECONDS',
};

/** Limits overridden by `BLOGTALK_*` environment variables; a bad value stops the start. */
export function limitsFromEnv(env: NodeJS.ProcessEnv): Partial<Limits> {
  const limits: Partial<Limits> = {};
  for (const [key, name] of Object.entries(envNames) as [keyof Limits, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new Error(`${name} must be a whole number ≥ 0, got "${raw}"`);
    }
    limits[key] = value;
  }
  return limits;
}

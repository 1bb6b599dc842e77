/**
 * The session client: signing in with the blogtalk server (`/api/v1/auth`). The server is the
 * OAuth client; the page only ever holds a single-use hand-off code, which it redeems by `fetch`
 * for an HttpOnly session cookie. These calls (and only these) send credentials.
 *
 * Popup flow: open `startUrl()` in the click handler, then `waitForCode()` accepts a message
 * only from the server's origin, from that popup window, carrying the nonce made here.
 * Redirect flow (popup blocked) and email links: the code comes back in the page URL as
 * `#blogtalk-code=…`, and `takeReturnedCode()` picks it up with the nonce kept in storage.
 */

/** A signed-in user as the server shows them (never an email address). */
export interface SessionUser {
  id: string;
  name: string;
  /** The provider's picture as a path on the comment server, else null: draw the generated avatar from `avatar`. */
  picture: string | null;
  /** Hex seed of the generated avatar. */
  avatar: string;
  website: string | null;
  /** The provider id signed in with (`email` for email links). */
  provider: string | null;
  /** Its display name, for "You are commenting using your X account". */
  providerName: string | null;
  /** Their pseudonym on the post's site: `author.user` of their own comments there. */
  author?: string;
  /** True when the server can email them replies (it sends email, and the account has an address). */
  mailable?: boolean;
}

/** A sign-in provider the server offers. */
export interface LoginProvider {
  id: string;
  name: string;
  /** Absolute URL of its icon. */
  icon: string;
  /** `mastodon` needs the reader's instance. */
  kind: 'oidc' | 'oauth2' | 'mastodon';
}

export interface ProviderList {
  providers: LoginProvider[];
  /** Whether the server sends sign-in links by email. */
  email: boolean;
}

/**
 * A refused or failed sign-in: `code` is the server's error code (or `network_error`, or
 * `cancelled` when the popup was closed); `message` the server's sentence, if it sent one.
 */
export class SessionError extends Error {
  override name = 'SessionError';
  constructor(
    readonly code: string,
    message = '',
  ) {
    super(message);
  }
}

const NONCE_KEY = 'blogtalk:login-nonce';
const TIMEOUT = 15_000;

/** 24 random bytes, base64url (32 characters): the widget's own value for one sign-in. */
export function newNonce(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

/**
 * For a popup sign-in: a secret kept in the page and its SHA-256 (hex), sent as the nonce. If the
 * provider's page cuts the popup off from this page (Cross-Origin-Opener-Policy), no message
 * comes back, and the secret redeems the hand-off the server kept under the nonce. Null where
 * `crypto.subtle` is missing (plain-HTTP pages): the sign-in then works without the fallback.
 */
export async function newHandoff(): Promise<[secret: string, nonce: string] | null> {
  try {
    const secret = newNonce();
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(secret));
    return [secret, Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')];
  } catch {
    return null;
  }
}

/** One call to `${server}/api/v1/auth/${path}`: JSON in and out, a timeout, the caller's signal. */
async function call<T>(server: string, path: string, signal?: AbortSignal, body?: object, credentials = true): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = setTimeout(abort, TIMEOUT);
  signal?.addEventListener('abort', abort);
  try {
    const response = await fetch(`${server}/api/v1/auth/${path}`, {
      method: body ? 'POST' : 'GET',
      headers: body && { 'Content-Type': 'application/json' },
      body: body && JSON.stringify(body),
      credentials: credentials ? 'include' : 'omit',
      signal: controller.signal,
    });
    const data = response.status === 204 ? {} : await response.json().catch(() => null);
    // Not JSON (a proxy's error page, say): refused like an error status.
    if (!response.ok || !data) throw new SessionError(data?.error?.code ?? `http_${response.status}`, data?.error?.message);
    return data as T;
  } catch (error) {
    signal?.throwIfAborted();
    throw error instanceof SessionError ? error : new SessionError('network_error');
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', abort);
  }
}

/** The providers the server offers (no credentials). */
export const getProviders = (server: string, signal?: AbortSignal) =>
  call<ProviderList>(server, 'providers', signal, undefined, false);

/** Who is signed in (the session cookie), or null. */
export const getSession = async (server: string, post: string | undefined, signal?: AbortSignal) =>
  (await call<{ user: SessionUser | null }>(server, `session${post ? `?post=${encodeURIComponent(post)}` : ''}`, signal)).user;

/** Trades a hand-off code (with the nonce it was started with) for the session cookie. */
export const redeem = async (server: string, code: string, nonce: string | null, signal?: AbortSignal) =>
  (await call<{ user: SessionUser }>(server, 'redeem', signal, nonce ? { code, nonce } : { code })).user;

/** Ends the server session and clears its cookie. */
export const logout = (server: string, signal?: AbortSignal) => call<unknown>(server, 'logout', signal, {});

/**
 * The signed-in reader's own data (`/api/v1/me/…`): the personal-data document, or (`erase`)
 * erasing it, which also ends the session. `site` is any URL of the blog.
 */
export const myData = (server: string, site: string, erase?: boolean) =>
  call<object>(server, `../me/${erase ? 'erase' : 'export'}`, undefined, erase ? { site, confirm: true } : { site });

/** A guest's export or erase: the server emails a confirmation link (and answers the same whether or not it does). */
export const dataLink = (server: string, site: string, email: string, action: string) =>
  call(server, '../privacy/request', undefined, { site, email, action }, false);

/** Asks for a sign-in link by email; it leads back to this page (`#blogtalk-code=…`). */
export function emailLink(server: string, post: string, email: string, signal?: AbortSignal): Promise<unknown> {
  const nonce = newNonce();
  keep(true, nonce);
  return call(server, 'email', signal, { post, email, return: here(), nonce });
}

/** Where `start` sends the reader: the provider, then back with a code for `nonce`. */
export function startUrl(server: string, provider: string, post: string, nonce: string, instance?: string): string {
  const url = new URL(`${server}/api/v1/auth/start/${encodeURIComponent(provider)}`);
  const q = url.searchParams;
  q.set('post', post);
  q.set('origin', location.origin);
  q.set('nonce', nonce);
  if (instance) q.set('instance', instance);
  return url.href;
}

/** Popup blocked: the whole page goes to `startUrl` and comes back here with `#blogtalk-code=…`. */
export function startRedirect(url: string, nonce: string): void {
  keep(false, nonce);
  location.assign(`${url}&return=${encodeURIComponent(here())}`);
}

/**
 * The hand-off code from the popup: resolves with the first message that comes from the
 * server's origin, from `popup` itself and with `nonce`; anything else is ignored. Rejects
 * with `cancelled` when the popup is closed without one, or with the server's error.
 */
export function waitForCode(server: string, popup: Window, nonce: string, signal?: AbortSignal): Promise<string> {
  const origin = new URL(server).origin;
  return new Promise((resolve, reject) => {
    let closedTicks = 0;
    const stop = () => {
      removeEventListener('message', onMessage);
      clearInterval(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      stop();
      reject(signal!.reason);
    };
    const onMessage = ({ origin: from, source, data }: MessageEvent) => {
      if (from !== origin || source !== popup || data?.nonce !== nonce) return;
      if (data.type === 'blogtalk-login' && typeof data.code === 'string') {
        stop();
        resolve(data.code);
      } else if (data.type === 'blogtalk-login-error') {
        stop();
        reject(new SessionError(String(data.error)));
      }
    };
    // A closed popup ends the wait, after one more tick so a message posted just before closing lands first.
    const timer = setInterval(() => {
      if (popup.closed && ++closedTicks > 1) {
        stop();
        reject(new SessionError('cancelled'));
      }
    }, 400);
    addEventListener('message', onMessage);
    signal?.addEventListener('abort', onAbort);
  });
}

/**
 * A code (or error) the redirect flow or an email link left in the URL, with the nonce kept
 * for it; the fragment is removed from the address bar at once. Null when there is none.
 */
export function takeReturnedCode(): { code?: string; error?: string; nonce: string | null } | null {
  const match = /^#blogtalk-(code|error)=([\w%-]{1,200})$/.exec(location.hash);
  if (!match) return null;
  history.replaceState(history.state, '', location.pathname + location.search);
  const nonce = take(false) ?? take(true);
  return { [match[1]!]: decodeURIComponent(match[2]!), nonce };
}

/** This page's address without its fragment. */
const here = () => location.href.split('#')[0]!;

// Storage can be missing or throw on access (sandboxed frames, private modes).
function keep(local: boolean, nonce: string): void {
  try {
    (local ? localStorage : sessionStorage).setItem(NONCE_KEY, nonce);
  } catch {
    // Not kept: redeeming the code later fails the server's nonce check, and the reader signs in again.
  }
}

function take(local: boolean): string | null {
  try {
    const storage = local ? localStorage : sessionStorage;
    const nonce = storage.getItem(NONCE_KEY);
    storage.removeItem(NONCE_KEY);
    return nonce;
  } catch {
    return null;
  }
}

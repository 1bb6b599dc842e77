/**
 * Sessions: a random id in an HttpOnly cookie; the store keeps only its SHA-256, with an expiry,
 * and can revoke it. Cross-site embeds get `SameSite=None; Partitioned` (CHIPS), so the cookie
 * is only ever sent to this server from within the embedding site; the first-party mode (widget
 * and server on one site) uses `SameSite=Lax`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store, User } from '../store/store.js';
import { hashToken, randomToken } from './tokens.js';
import { HttpError } from '../http/errors.js';

export const SESSION_COOKIE = 'blogtalk_session';

export type CookieMode = 'cross-site' | 'first-party';

export interface SessionOptions {
  store: Store;
  now: () => Date;
  /** Session lifetime in seconds. */
  maxAgeSeconds: number;
  cookieMode: CookieMode;
}

/** What a request's cookie says: nobody, a live session, or a session that is no longer valid. */
export type SessionState =
  | { kind: 'none' }
  | { kind: 'invalid' }
  | { kind: 'user'; user: User; idHash: string; provider: string | null; expires: Date };

/** Reads one cookie from a `Cookie` header (RFC 6265 syntax; the last occurrence wins). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) found = part.slice(eq + 1).trim();
  }
  return found;
}

export class Sessions {
  constructor(private readonly options: SessionOptions) {}

  /** The `Set-Cookie` value for a session id (or a clearing one when `id` is null). */
  cookie(id: string | null): string {
    const attributes = [
      `${SESSION_COOKIE}=${id ?? ''}`,
      'Path=/api',
      'HttpOnly',
      'Secure',
      `Max-Age=${id ? this.options.maxAgeSeconds : 0}`,
      ...(this.options.cookieMode === 'cross-site' ? ['SameSite=None', 'Partitioned'] : ['SameSite=Lax']),
    ];
    return attributes.join('; ');
  }

  /** Starts a session for the user and sets its cookie on the reply. */
  async start(userId: string, provider: string | null, reply: FastifyReply): Promise<Date> {
    const id = randomToken();
    const created = this.options.now();
    const expires = new Date(created.getTime() + this.options.maxAgeSeconds * 1000);
    await this.options.store.createSession(hashToken(id), { userId, provider, created, expires });
    reply.header('Set-Cookie', this.cookie(id));
    return expires;
  }

  /** Who the request's cookie belongs to. */
  async read(request: FastifyRequest): Promise<SessionState> {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (!id) return { kind: 'none' };
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(id)) return { kind: 'invalid' };
    const idHash = hashToken(id);
    const session = await this.options.store.getSession(idHash, this.options.now());
    if (!session) return { kind: 'invalid' };
    const user = await this.options.store.getUser(session.userId);
    if (!user) return { kind: 'invalid' };
    return { kind: 'user', user, idHash, provider: session.provider, expires: session.expires };
  }

  /**
   * Who the request's cookie belongs to, for a route that accepts guests and signed-in users
   * alike: a session that is no longer valid clears the cookie and answers 401
   * `session_expired`, so the writer is asked to sign in again.
   */
  async current(request: FastifyRequest, reply: FastifyReply): Promise<Exclude<SessionState, { kind: 'invalid' }>> {
    const state = await this.read(request);
    if (state.kind !== 'invalid') return state;
    reply.header('Set-Cookie', this.cookie(null));
    throw new HttpError(401, 'session_expired', 'Your sign-in has expired. Please sign in again.');
  }

  /** Revokes the request's session (if any) and clears the cookie. */
  async end(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const state = await this.read(request);
    if (state.kind === 'user') await this.options.store.revokeSession(state.idHash, this.options.now());
    reply.header('Set-Cookie', this.cookie(null));
  }
}

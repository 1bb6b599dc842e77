/**
 * The tokens in notification emails. None contains an email address, and none is stored in
 * clear: a confirmation token is an HMAC of the subscription id (only its SHA-256 is stored,
 * and it stops working once used or expired); an unsubscribe token names what it ends
 * (a subscription, or one kind of an owner's emails) and carries an HMAC of that.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What an unsubscribe link ends: a reply subscription, or an owner's comment or held-comment emails. */
export type Unsubscribe =
  | { kind: 'subscription'; id: string }
  | { kind: 'owner'; siteId: string; userId: string; what: 'comments' | 'held' };

/** Confirmation links work this long. */
export const CONFIRM_SECONDS = 7 * 24 * 3600;

/** What a token in a path must look like before it is read. */
export const notifyTokenPattern = '^[A-Za-z0-9._-]{16,600}$';

const mac = (secret: string, purpose: string, value: string) =>
  createHmac('sha256', secret).update(`notify-${purpose}\n${value}`).digest('base64url');

/** The emailed confirmation token of a subscription (the store keeps its SHA-256). */
export function confirmToken(secret: string, subscriptionId: string): string {
  return mac(secret, 'confirm', subscriptionId);
}

export function unsubscribeToken(secret: string, target: Unsubscribe): string {
  const value =
    target.kind === 'subscription'
      ? `s.${target.id}`
      : `o.${Buffer.from(`${target.siteId}\n${target.userId}\n${target.what}`, 'utf8').toString('base64url')}`;
  return `${value}.${mac(secret, 'unsubscribe', value)}`;
}

/** What a genuine unsubscribe token ends; null for anything else. */
export function readUnsubscribeToken(secret: string, token: string): Unsubscribe | null {
  const match = /^([so]\.[A-Za-z0-9_-]{1,500})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  const [, value, given] = match as unknown as [string, string, string];
  const expected = Buffer.from(mac(secret, 'unsubscribe', value));
  if (!timingSafeEqual(expected, Buffer.from(given))) return null;
  const body = value.slice(2);
  if (value.startsWith('s.')) return { kind: 'subscription', id: body };
  const [siteId, userId, what] = Buffer.from(body, 'base64url').toString('utf8').split('\n');
  if (!siteId || !userId || (what !== 'comments' && what !== 'held')) return null;
  return { kind: 'owner', siteId, userId, what };
}

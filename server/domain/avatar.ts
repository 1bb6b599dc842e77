import { createHmac } from 'node:crypto';

/**
 * The avatar seed sent to browsers: a salted HMAC of the site and the normalised email, so the
 * same writer gets the same picture on one site, and nobody can look the address up from it
 * (unlike a plain MD5/SHA hash, as Gravatar uses). Guests without an email get one from their name.
 */
export function avatarSeed(secret: string, siteId: string, email: string | null, name: string): string {
  const who = email ? `email:${email.trim().toLowerCase()}` : `name:${name}`;
  return createHmac('sha256', secret).update(`${siteId}\n${who}`).digest('hex').slice(0, 32);
}

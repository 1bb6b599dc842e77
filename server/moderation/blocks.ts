/**
 * Blocks: a site's owner refuses new comments from a signed-in author (their user id), a guest
 * email, or an address — one address, or a network as `address/prefix` (IPv4 /8–/32, IPv6
 * /16–/128 in steps of 4, on hex-digit boundaries). The store matches exact keys only, so a new
 * comment's address is turned into the keys of every network that holds it (25 for IPv4, 29
 * for IPv6), and one indexed lookup answers.
 *
 * A blocked writer gets 403 `blocked` and no more detail: not which of the three matched, so a
 * block cannot be probed. (Keeping the comment as spam instead would hide the block from honest
 * people blocked by a shared address; a refusal tells them, and their outbox keeps the text.)
 */
import { isIP } from 'node:net';
import { HttpError } from '../http/errors.js';
import type { BlockKind, Store } from '../store/store.js';

/** Most blocks one site may have. */
export const BLOCKS_MAX = 1_000;

export const BLOCKED_MESSAGE = 'You cannot comment on this site.';

const V4_MIN_PREFIX = 8;
const V6_MIN_PREFIX = 16;
/** IPv6 networks end on a hex digit: fewer keys to look up for each new comment (29, not 113). */
const V6_PREFIX_STEP = 4;

/** `::ffff:1.2.3.4` is judged (and stored) as `1.2.3.4`. */
function unmap(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** An address as 16-bit groups (2 for IPv4, 8 for IPv6), or null. */
function groupsOf(address: string): number[] | null {
  const family = isIP(address);
  if (family === 4) {
    const [a, b, c, d] = address.split('.').map(Number) as [number, number, number, number];
    return [(a << 8) | b, (c << 8) | d];
  }
  if (family !== 6) return null;
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [hi, lo] = groupsOf(dotted[1]!)!;
    text = `${text.slice(0, -dotted[1]!.length)}${hi!.toString(16)}:${lo!.toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((group) => parseInt(group, 16));
}

/** The groups with every bit after the first `prefix` cleared. */
function masked(groups: number[], prefix: number): number[] {
  return groups.map((group, i) => {
    const keep = Math.min(16, Math.max(0, prefix - 16 * i));
    return keep === 16 ? group : group & ((0xffff << (16 - keep)) & 0xffff);
  });
}

/** IPv4 dotted text, or RFC 5952 IPv6 text (lowercase, the longest run of two or more zero groups as `::`). */
function textOf(groups: number[]): string {
  if (groups.length === 2) return [groups[0]! >> 8, groups[0]! & 255, groups[1]! >> 8, groups[1]! & 255].join('.');
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [best, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`;
}

/**
 * The canonical form of an address or network an owner typed (`203.0.113.7`, `203.0.113.0/24`,
 * `2001:db8::/48`), or null when it is neither, the network is wider than /8 (IPv4) or /16
 * (IPv6), or an IPv6 prefix is not a multiple of 4. A network's host bits are cleared; a
 * full-length prefix is the plain address.
 */
export function canonicalAddress(raw: string): string | null {
  const match = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(raw.trim());
  if (!match) return null;
  const groups = groupsOf(unmap(match[1]!.replace(/^\[|\]$/g, '')));
  if (!groups) return null;
  const bits = groups.length * 16;
  const prefix = match[2] === undefined ? bits : Number(match[2]);
  if (prefix > bits || prefix < (bits === 32 ? V4_MIN_PREFIX : V6_MIN_PREFIX)) return null;
  if (bits === 128 && prefix % V6_PREFIX_STEP !== 0) return null;
  const text = textOf(masked(groups, prefix));
  return prefix === bits ? text : `${text}/${prefix}`;
}

/** The block keys that would refuse this address: the address itself and every network holding it. */
export function addressKeys(address: string): string[] {
  const groups = groupsOf(unmap(address));
  if (!groups) return [];
  const bits = groups.length * 16;
  const keys = [textOf(groups)];
  const step = bits === 32 ? 1 : V6_PREFIX_STEP;
  for (let prefix = bits - step; prefix >= (bits === 32 ? V4_MIN_PREFIX : V6_MIN_PREFIX); prefix -= step) {
    keys.push(`${textOf(masked(groups, prefix))}/${prefix}`);
  }
  return keys;
}

/** Who is writing a new comment, as blocks see them. */
export interface Writer {
  userId: string | null;
  email: string | null;
  address: string | null;
}

/** Throws 403 `blocked` when the site blocks the writer's account, email or address. */
export async function refuseBlocked(store: Store, siteId: string, writer: Writer): Promise<void> {
  const keys: { kind: BlockKind; value: string }[] = [];
  if (writer.userId) keys.push({ kind: 'user', value: writer.userId });
  if (writer.email) keys.push({ kind: 'email', value: writer.email.trim().toLowerCase() });
  if (writer.address) for (const value of addressKeys(writer.address)) keys.push({ kind: 'address', value });
  if (await store.isBlocked(siteId, keys)) throw new HttpError(403, 'blocked', BLOCKED_MESSAGE);
}

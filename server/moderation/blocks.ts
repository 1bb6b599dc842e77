/**
 * Blocks: a site's owner refuses new comments from a signed-in author (their user id), a guest
 * email, or an address — one address, or a network as `address/prefix` (IPv4 /8–/32, IPv6
 * /16–/128). The store matches exact keys only, so a new comment's address is turned into the
 * keys of every network that holds it (at most 113), and one indexed lookup answers.
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

/** `::ffff:1.2.3.4` is judged (and stored) as `1.2.3.4`. */
function unmap(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

function v4ToBig(address: string): bigint {
  return address.split('.').reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function bigToV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 255n)).join('.');
}

function v6ToBig(address: string): bigint {
  let text = address.toLowerCase();
  // A trailing dotted IPv4 part becomes two groups.
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = v4ToBig(dotted[1]!);
    text = text.slice(0, -dotted[1]!.length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, group) => (n << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** RFC 5952 text: lowercase, the longest run of zero groups (two or more) as `::`. */
function bigToV6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
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

function masked(n: bigint, bits: number, prefix: number): bigint {
  const hostBits = BigInt(bits - prefix);
  return (n >> hostBits) << hostBits;
}

/**
 * The canonical form of an address or network an owner typed (`203.0.113.7`, `203.0.113.0/24`,
 * `2001:db8::/48`), or null when it is neither or the network is wider than /8 (IPv4) or /16
 * (IPv6). A network's host bits are cleared; a full-length prefix is the plain address.
 */
export function canonicalAddress(raw: string): string | null {
  const match = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(raw.trim());
  if (!match) return null;
  const address = unmap(match[1]!.replace(/^\[|\]$/g, ''));
  const family = isIP(address);
  if (family === 0) return null;
  const bits = family === 4 ? 32 : 128;
  const prefix = match[2] === undefined ? bits : Number(match[2]);
  if (prefix > bits || prefix < (family === 4 ? V4_MIN_PREFIX : V6_MIN_PREFIX)) return null;
  const n = masked(family === 4 ? v4ToBig(address) : v6ToBig(address), bits, prefix);
  const text = family === 4 ? bigToV4(n) : bigToV6(n);
  return prefix === bits ? text : `${text}/${prefix}`;
}

/** The block keys that would refuse this address: the address itself and every network holding it. */
export function addressKeys(address: string): string[] {
  const plain = unmap(address);
  const family = isIP(plain);
  if (family === 0) return [];
  const bits = family === 4 ? 32 : 128;
  const n = family === 4 ? v4ToBig(plain) : v6ToBig(plain);
  const keys: string[] = [];
  for (let prefix = bits; prefix >= (family === 4 ? V4_MIN_PREFIX : V6_MIN_PREFIX); prefix--) {
    const net = masked(n, bits, prefix);
    const text = family === 4 ? bigToV4(net) : bigToV6(net);
    keys.push(prefix === bits ? text : `${text}/${prefix}`);
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

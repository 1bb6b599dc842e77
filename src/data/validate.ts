/**
 * The server's limits, checked in the browser first so the writer hears about them at once.
 * The server stays the authority: it checks again, and its message wins.
 */
import type { MessageKey } from '../internal/i18n.js';
import { safeHttpUrl } from '../internal/text.js';

export const LIMITS = { body: 10_000, name: 100, email: 254, website: 2_000 } as const;

/** A problem with one field: a message key and the values for its placeholders. */
export interface Problem {
  key: MessageKey;
  values?: Record<string, number>;
}

export interface GuestDetails {
  name: string;
  email: string;
  website: string;
}

/** Characters as a person counts them (code points, not UTF-16 units). */
export function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

export function checkBody(body: string): Problem | null {
  if (body.trim() === '') return { key: 'bodyRequired' };
  const n = length(body);
  return n > LIMITS.body ? { key: 'bodyTooLong', values: { n, max: LIMITS.body } } : null;
}

/** Problems with a guest's details, by field; empty when all is well. */
export function checkGuest({ name, email, website }: GuestDetails): Partial<Record<keyof GuestDetails, Problem>> {
  const problems: Partial<Record<keyof GuestDetails, Problem>> = {};
  if (name.trim() === '') problems.name = { key: 'nameRequired' };
  else if (length(name.trim()) > LIMITS.name) problems.name = { key: 'tooLong', values: { max: LIMITS.name } };
  if (email.trim() === '') problems.email = { key: 'emailRequired' };
  else if (length(email.trim()) > LIMITS.email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) {
    problems.email = { key: 'emailInvalid' };
  }
  const site = website.trim();
  if (site && length(site) > LIMITS.website) problems.website = { key: 'tooLong', values: { max: LIMITS.website } };
  else if (site && !safeHttpUrl(site)) problems.website = { key: 'websiteInvalid' };
  return problems;
}

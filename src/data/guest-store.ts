/**
 * The guest details a writer asked this browser to remember ("Save my name, email, and
 * website…"), in `localStorage`. Storage can be missing or throw (private modes, sandboxed
 * frames, quota): then nothing is remembered and nothing breaks.
 */
import type { GuestDetails } from './validate.js';

const KEY = 'blogtalk:guest';

export function loadGuest(storage: Storage | null = local()): GuestDetails | null {
  try {
    const data: unknown = JSON.parse(storage?.getItem(KEY) ?? 'null');
    if (!data || typeof data !== 'object') return null;
    const { name, email, website } = data as Record<string, unknown>;
    return { name: str(name), email: str(email), website: str(website) };
  } catch {
    return null;
  }
}

export function saveGuest(details: GuestDetails, storage: Storage | null = local()): void {
  try {
    storage?.setItem(KEY, JSON.stringify(details));
  } catch {
    // Not remembered; the comment is sent all the same.
  }
}

export function forgetGuest(storage: Storage | null = local()): void {
  try {
    storage?.removeItem(KEY);
  } catch {
    // Nothing to forget.
  }
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function local(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

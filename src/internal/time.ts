/** Dates for people, with `Intl` only: "3 minutes ago" and "September 22, 2016 at 5:12 PM". */

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

const relativeFormats = new Map<string, Intl.RelativeTimeFormat>();
const absoluteFormats = new Map<string, Intl.DateTimeFormat>();

/** How long ago (or until) `date` is from `now`, in the largest fitting unit ("now" under a minute). */
export function relativeTime(date: Date, lang: string, now: number = Date.now()): string {
  let format = relativeFormats.get(lang);
  if (!format) relativeFormats.set(lang, (format = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' })));
  const seconds = (date.getTime() - now) / 1000;
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.trunc(seconds / size), unit);
  }
  return format.format(0, 'second');
}

/** The full date and time in the reader's time zone. */
export function absoluteTime(date: Date, lang: string): string {
  let format = absoluteFormats.get(lang);
  if (!format) {
    absoluteFormats.set(lang, (format = new Intl.DateTimeFormat(lang, { dateStyle: 'long', timeStyle: 'short' })));
  }
  return format.format(date);
}

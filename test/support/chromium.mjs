// Where the test suites find Chromium, and the flags it needs on this kind of machine
// (root, no network). Shared by web-test-runner, the end-to-end suite and the benchmarks.
import { existsSync } from 'node:fs';

const candidates = [
  process.env.CHROME_PATH,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
].filter(Boolean);

/** The first Chromium found, or null. */
export function findChromium() {
  return candidates.find((path) => existsSync(path)) ?? null;
}

/** The Chromium path, or exit with a message that says what to install. */
export function requireChromium() {
  const path = findChromium();
  if (!path) {
    console.error(
      'blogtalk tests need Chromium or Chrome and found none.\n' +
        'Install it (Debian/Ubuntu: `sudo apt-get install chromium`) or set CHROME_PATH to its executable.',
    );
    process.exit(1);
  }
  return path;
}

/** Flags for headless Chromium: root needs --no-sandbox; the rest keep it off the network. */
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

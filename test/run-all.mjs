// `npm test`: every suite in turn — server (node:test), browser components (web-test-runner
// in Chromium), end-to-end (node:test driving Chromium with playwright-core) — then one closing
// line that sums them all: `N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireChromium } from './support/chromium.mjs';

requireChromium();
if (!process.env.TEST_DATABASE_URL) {
  console.log('TEST_DATABASE_URL is not set: the PostgreSQL suites are reported as skipped.');
}

const only = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'blogtalk-counts-'));
const nodeTest = (name, path) => ({
  name,
  command: process.execPath,
  args: [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=./test/reporters/node-count-reporter.mjs',
    `--test-reporter-destination=${join(dir, `${name}.json`)}`,
    path,
  ],
});
const suites = [
  nodeTest('server', 'build/test/server/'),
  {
    name: 'browser',
    command: process.execPath,
    args: ['node_modules/@web/test-runner/dist/bin.js', '--config', 'web-test-runner.config.mjs'],
  },
  nodeTest('e2e', 'build/test/e2e/'),
].filter((suite) => only.length === 0 || only.includes(suite.name));

const total = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
for (const suite of suites) {
  const countsFile = join(dir, `${suite.name}.json`);
  console.log(`\n=== ${suite.name} tests ===`);
  const result = spawnSync(suite.command, suite.args, {
    stdio: 'inherit',
    env: { ...process.env, BLOGTALK_COUNTS_FILE: countsFile },
  });
  let counts = { passed: 0, failed: 0, skipped: 0 };
  if (existsSync(countsFile)) counts = JSON.parse(readFileSync(countsFile, 'utf8'));
  // A runner that crashed or exited non-zero without reporting a failure still fails the run.
  if (result.status !== 0 && counts.failed === 0) counts.failed = 1;
  for (const key of Object.keys(total)) total[key] += counts[key];
  lines.push(`${suite.name}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
}
rmSync(dir, { recursive: true, force: true });

console.log('');
for (const line of lines) console.log(line);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);

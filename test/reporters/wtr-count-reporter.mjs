// A web-test-runner reporter that writes the run's totals to the JSON file named by
// BLOGTALK_COUNTS_FILE, so test/run-all.mjs can sum every suite into one closing line.
import { writeFileSync } from 'node:fs';

function countResults(results, counts) {
  if (!results) return;
  for (const test of results.tests ?? []) {
    if (test.skipped) counts.skipped += 1;
    else if (test.passed) counts.passed += 1;
    else counts.failed += 1;
  }
  for (const suite of results.suites ?? []) countResults(suite, counts);
}

export function countReporter() {
  return {
    onTestRunFinished({ sessions }) {
      const counts = { passed: 0, failed: 0, skipped: 0 };
      for (const session of sessions) {
        countResults(session.testResults, counts);
        // A test file that failed to load or threw outside a test counts as one failure.
        if (!session.passed && (session.errors?.length ?? 0) > 0) counts.failed += 1;
      }
      const file = process.env.BLOGTALK_COUNTS_FILE;
      if (file) writeFileSync(file, JSON.stringify(counts));
    },
  };
}

// A node:test reporter that emits the run's totals as JSON, for test/run-all.mjs.
// Suites are not counted as tests, except a skipped suite (one skip) or a suite that failed by
// itself (a hook threw), so that a crash is never hidden.
export default async function* countReporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for await (const event of source) {
    const data = event.data;
    const isSuite = data?.details?.type === 'suite';
    if (event.type === 'test:pass') {
      if (data.skip || data.todo) counts.skipped += 1;
      else if (!isSuite) counts.passed += 1;
    } else if (event.type === 'test:fail') {
      if (!isSuite || data.details?.error?.failureType !== 'subtestsFailed') counts.failed += 1;
    }
  }
  yield JSON.stringify(counts);
}

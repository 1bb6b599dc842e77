// Bench `bundle`: raw, gzip -9 and brotli (max quality) sizes of the built widget, against
// the budget in bench/budget.json (the baseline: ratio = gzip / budget). Returns a failure
// message when a file is over budget.
import { readFile } from 'node:fs/promises';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { emit, round } from './lib.mjs';

export async function bundle() {
  const budget = JSON.parse(await readFile(new URL('./budget.json', import.meta.url), 'utf8'));
  const files = new Set(['dist/blogtalk.js', 'dist/blogtalk.esm.js', ...Object.keys(budget)]);
  const sizes = {};
  for (const file of files) {
    const body = await readFile(file);
    sizes[file] = {
      raw: body.length,
      gzip: gzipSync(body, { level: 9 }).length,
      brotli: brotliCompressSync(body, {
        params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
      }).length,
    };
  }
  const overBudget = Object.entries(budget)
    .filter(([file, limits]) => Object.entries(limits).some(([kind, max]) => sizes[file]?.[kind] > max))
    .map(([file]) => file);
  const main = 'dist/blogtalk.js';
  emit({ bench: 'bundle', files: sizes, overBudget, baseline: { budget }, ratio: round(sizes[main].gzip / budget[main].gzip, 3) });
  return overBudget.length > 0 ? `over budget: ${overBudget.join(', ')}` : null;
}

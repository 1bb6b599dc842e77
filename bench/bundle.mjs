// Bench `bundle`: raw, gzip -9 and brotli (max quality) sizes of the built widget. The budget
// (bench/budget.json, the baseline: ratio = gzip / budget) is on the FIRST-PAINT bytes: the
// loader dist/blogtalk.js plus the entry chunk it imports and every chunk that entry imports
// statically, i.e. what a page loads before <comment-thread> can paint its responses. `total`
// is every file the widget may load (the loader and all of dist/chunks/, loaded on first use
// or when the browser is idle); dist/blogtalk.esm.js (every element in one module) is listed
// apart. Returns a failure message when over budget.
import { readdir, readFile } from 'node:fs/promises';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { emit, round } from './lib.mjs';

async function measure(file) {
  const body = await readFile(file);
  return {
    raw: body.length,
    gzip: gzipSync(body, { level: 9 }).length,
    brotli: brotliCompressSync(body, {
      params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: body.length },
    }).length,
  };
}

const sum = (sizes) => sizes.reduce((a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }), { raw: 0, gzip: 0, brotli: 0 });

/** The chunks a module imports statically (`import … from "./x.js"` / `import "./x.js"` in rollup's output). */
async function staticImports(file) {
  const code = await readFile(file, 'utf8');
  return [...code.matchAll(/\bimport\s*(?:[\w$*{}\s,]*?from\s*)?["']\.\/([\w.-]+\.js)["']/g)].map((m) => `dist/chunks/${m[1]}`);
}

export async function bundle() {
  const budget = JSON.parse(await readFile(new URL('./budget.json', import.meta.url), 'utf8'));
  const loader = 'dist/blogtalk.js';
  const entryName = /["']\.\/(chunks\/[\w.-]+\.js)["']/.exec(await readFile(loader, 'utf8'))?.[1];
  if (!entryName) throw new Error(`${loader} names no entry chunk`);
  const firstPaint = [loader, `dist/${entryName}`];
  for (let i = 1; i < firstPaint.length; i++) {
    for (const dep of await staticImports(firstPaint[i])) if (!firstPaint.includes(dep)) firstPaint.push(dep);
  }
  const chunks = (await readdir('dist/chunks')).map((name) => `dist/chunks/${name}`).sort();
  const files = {};
  for (const file of [loader, ...chunks, 'dist/blogtalk.esm.js']) files[file] = await measure(file);
  const first = sum(firstPaint.map((file) => files[file]));
  const total = sum([loader, ...chunks].map((file) => files[file]));
  const limits = budget.firstPaint;
  const over = Object.entries(limits).filter(([kind, max]) => first[kind] > max);
  emit({
    bench: 'bundle',
    firstPaint: { files: firstPaint, ...first, note: 'loader + entry chunk + its static imports: loaded before the thread paints' },
    total: { files: 1 + chunks.length, ...total, note: 'loader + every chunk (the rest loads on first use or when idle)' },
    files,
    overBudget: over.map(([kind]) => `firstPaint.${kind}`),
    baseline: { budget },
    ratio: round(first.gzip / limits.gzip, 3),
    ratioOf: 'firstPaint.gzip / budget.firstPaint.gzip',
  });
  return over.length > 0 ? `first paint over budget: ${over.map(([kind, max]) => `${kind} ${first[kind]} > ${max}`).join(', ')}` : null;
}

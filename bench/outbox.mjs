// Bench `outbox`: in headless Chromium with the built bundle, 1, 10 and 100 comments are queued
// while the comment API is unreachable (its POSTs aborted at the network), then the time from the
// `online` event to the server having acknowledged every one (the last `comment-posted`) is
// measured. Baseline, same run, same page: the same number of comments POSTed one after another
// with plain fetch — the network and server cost the outbox cannot avoid. Median of
// BENCH_OUTBOX_RUNS (3) runs each, every run in a fresh browser context (an empty IndexedDB).
// Goal (issue 4): ≤ 1 s for 10.
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, findChromium } from '../test/support/chromium.mjs';
import { commentText, emit, log, median, round, withServerChild } from './lib.mjs';

const runs = Number(process.env.BENCH_OUTBOX_RUNS ?? 3);
const sizes = (process.env.BENCH_OUTBOX_SIZES ?? "1,10,100").split(",").map(Number);

const pageHtml = (server, post) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Outbox bench</title>
<script src="${server}/blogtalk.js"></script></head><body>
<comment-thread server="${server}" post="${post}" page-size="1000"></comment-thread></body></html>`;

/** In the page: queue `texts` through the composer, as a writer would, while offline. */
async function queue(texts) {
  const el = document.querySelector('comment-thread');
  const root = el.shadowRoot;
  const picker = root.querySelector('login-picker').shadowRoot;
  const set = (input, value) => {
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
  };
  set(picker.querySelector('#name'), 'Bench Reader');
  set(picker.querySelector('#email'), 'bench@example.org');
  for (const text of texts) {
    set(root.querySelector('textarea'), text);
    const queued = new Promise((done, fail) => {
      el.addEventListener('comment-queued', done, { once: true });
      setTimeout(() => fail(new Error('a comment was not queued within 10 s')), 10_000);
    });
    root.querySelector('[part~="submit-button"]').click();
    await queued;
  }
}

/** In the page: dispatch `online`, resolve the ms until `n` comment-posted events. */
function flush(n) {
  const el = document.querySelector('comment-thread');
  return new Promise((done, fail) => {
    setTimeout(() => fail(new Error(`only ${posted} of ${n} posted in 60 s`)), 60_000);
    let posted = 0;
    let t0 = 0;
    el.addEventListener('comment-posted', () => {
      if (++posted === n) done(performance.now() - t0);
    });
    t0 = performance.now();
    dispatchEvent(new Event('online'));
  });
}

/** In the page: the baseline, `texts` POSTed one after another with fetch. */
async function direct({ server, post, texts }) {
  const t0 = performance.now();
  for (const body of texts) {
    const res = await fetch(`${server}/api/v1/comments`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
      body: JSON.stringify({ post, author: { name: 'Bench Reader', email: 'bench@example.org' }, body }),
    });
    if (!res.ok) throw new Error(`baseline POST: ${res.status}`);
  }
  return performance.now() - t0;
}

export async function outbox() {
  const executablePath = findChromium();
  if (!executablePath) {
    emit({ bench: 'outbox', skipped: 'no Chromium (set CHROME_PATH)' });
    return null;
  }
  return withServerChild({ mode: 'app', distDir: resolve('dist') }, async (server) => {
    const browser = await chromium.launch({ executablePath, args: chromiumArgs, headless: true });
    try {
      const results = [];
      let serial = 0;
      for (const n of sizes) {
        const outboxMs = [];
        const baselineMs = [];
        for (let run = 0; run < runs; run++) {
          const post = `https://bench.test/outbox-${n}-${run}-${Date.now()}`;
          const texts = Array.from({ length: n }, () => commentText(serial++));
          const context = await browser.newContext();
          const pageUrl = `${server.url}/bench-outbox.html`;
          await context.route(pageUrl, (route) => route.fulfill({ contentType: 'text/html', body: pageHtml(server.url, post) }));
          const page = await context.newPage();
          await page.goto(pageUrl);
          await page.waitForFunction(() => document.querySelector('comment-thread')?.shadowRoot?.querySelector('h2'));
          // Offline for the comment API's POSTs only: the page and the thread still load.
          const offline = (route) => (route.request().method() === 'POST' ? route.abort('internetdisconnected') : route.fallback());
          await page.route('**/api/v1/comments', offline);
          await page.evaluate(queue, texts);
          await page.waitForFunction(
            (count) => document.querySelector('comment-thread').shadowRoot.querySelectorAll('.sending').length === count,
            n,
          );
          await page.unroute('**/api/v1/comments', offline);
          outboxMs.push(await page.evaluate(flush, n));
          const stored = await server.call('count', { post });
          if (stored !== n) throw new Error(`outbox ${n}: the server has ${stored} of ${n}`);
          baselineMs.push(await page.evaluate(direct, { server: server.url, post: `${post}-direct`, texts }));
          await context.close();
        }
        const line = { comments: n, onlineToAckMs: round(median(outboxMs)), baselineMs: round(median(baselineMs)) };
        line.ratio = round(line.onlineToAckMs / Math.max(line.baselineMs, 0.01), 2);
        log(`outbox ${n}: ${line.onlineToAckMs} ms (direct ${line.baselineMs} ms)`);
        results.push(line);
      }
      const ten = results.find((r) => r.comments === 10);
      emit({ bench: 'outbox', runs, results, goal: { comments: 10, maxMs: 1000, met: ten ? ten.onlineToAckMs <= 1000 : null } });
      return null;
    } finally {
      await browser.close();
    }
  });
}

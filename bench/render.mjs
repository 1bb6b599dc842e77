// Bench `render`: in headless Chromium, the time from creating <comment-thread> to its
// comments painted (all `[part~=comment]` in its shadow root, then a double rAF), against the
// same comments as static HTML (same text and nesting, one <article> per comment, similar
// CSS) inserted from a <template> into the same page, same paint wait. The widget's time
// includes its fetch of the page from the server (reported apart as fetchMs); the baseline's
// HTML is already in the page, as a server-rendered blog's would be.
// 1,000 comments = 1,000 top-level threads; 10,000 = 1,000 threads × (1 + 9 replies), one
// request with page-size=1000 (page-size counts threads). Median of BENCH_RENDER_RUNS (5)
// runs each (one discarded warm-up run first), each run on a fresh page.
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { chromiumArgs, findChromium } from '../test/support/chromium.mjs';
import { emit, log, median, round, withServerChild } from './lib.mjs';

const runs = Number(process.env.BENCH_RENDER_RUNS ?? 5);
const timeoutMs = 120_000;
const sizes = [
  { comments: 1000, threads: 1000, replies: 0, post: 'https://bench.test/render-1k' },
  { comments: 10000, threads: 1000, replies: 9, post: 'https://bench.test/render-10k' },
];

const escape = (s) => s.replace(/[&<>"]/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot' }[c]};`);

/** The static HTML equivalent of a page of comments (as the API returns them). */
function staticHtml(comments) {
  const children = new Map();
  for (const c of comments) {
    const siblings = children.get(c.parent) ?? [];
    siblings.push(c);
    children.set(c.parent, siblings);
  }
  // The widget's avatar for the seed 'a' × 32, which every seeded comment has.
  const avatar = `<svg class="avatar" viewBox="-1 -1 7 7" aria-hidden="true"><rect x="-1" y="-1" width="7" height="7" fill="hsl(210 55% 90%)"></rect><g fill="hsl(210 55% 38%)">${[[1, 0], [3, 0], [0, 1], [4, 1], [2, 1], [1, 2], [3, 2], [0, 3], [4, 3], [2, 3], [1, 4], [3, 4]].map(([x, y]) => `<rect x="${x}" y="${y}" width="1" height="1"></rect>`).join('')}</g></svg>`;
  const article = (c) => {
    const name = c.author.website ? `<a href="${escape(c.author.website)}">${escape(c.author.name)}</a>` : escape(c.author.name);
    const paragraphs = c.body.split(/\n{2,}/).map((p) => `<p>${escape(p)}</p>`).join('');
    return `<article id="comment-${c.id}" class="comment">${avatar}<header class="meta"><span><bdi class="author">${name}</bdi> Says:</span> <a class="date" href="#comment-${c.id}"><time datetime="${c.created}">${new Date(c.created).toDateString()}</time></a></header><div class="body">${paragraphs}</div><div class="actions"><button type="button" class="reply">Reply</button></div></article>`;
  };
  const list = (parent, cls) =>
    `<ol class="${cls}">${children.get(parent).map((c) => `<li>${article(c)}${children.has(c.id) ? list(c.id, 'children') : ''}</li>`).join('')}</ol>`;
  return list(null, 'comments');
}

/** The page both variants run in, served on the comment server's origin through page.route. */
const pageHtml = (server) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Bench post</title>
<style>
  body { font: 16px/1.5 Georgia, serif; max-width: 45em; margin: 2em auto; }
  ol { list-style: none; margin: 0; padding: 0; }
  .children { margin-inline-start: 2.5em; padding-inline-start: 0.75em; border-inline-start: 2px solid #ddd; }
  .comment { display: grid; grid-template-columns: 2.5em minmax(0, 1fr); column-gap: 0.75em; padding: 0.75em 0.5em; border-block-end: 1px solid #ddd; }
  .comment > :not(.avatar) { grid-column: 2; }
  .avatar { grid-row: 1 / span 3; width: 2.5em; height: 2.5em; }
  .meta { display: flex; flex-wrap: wrap; align-items: baseline; column-gap: 0.75em; }
  .author { font-weight: 600; } .date { color: #666; font-size: 0.875em; }
  .body p { margin: 0.4em 0; white-space: pre-wrap; }
</style>
<script src="${server}/blogtalk.js"></script></head><body><main id="root"></main></body></html>`;

/** In the page: create the element, wait until `n` comments are in its shadow root, double rAF. */
async function widgetRun({ server, post, n, timeoutMs }) {
  await customElements.whenDefined('comment-thread');
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  await frame();
  const t0 = performance.now();
  const el = document.createElement('comment-thread');
  el.setAttribute('server', server);
  el.setAttribute('post', post);
  el.setAttribute('page-size', '1000');
  document.getElementById('root').append(el);
  let count = 0;
  // Checked in each rAF (before that frame's paint); the next rAF comes after it was painted.
  while ((count = el.shadowRoot?.querySelectorAll('[part~=comment]').length ?? 0) < n) {
    if (performance.now() - t0 > timeoutMs) return { timedOut: true, count };
    await frame();
  }
  await frame();
  const ms = performance.now() - t0;
  const fetch = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/comments'));
  return { ms, count, fetchMs: fetch?.duration };
}

/** In the page: insert the static HTML from a template, double rAF. */
async function baselineRun({ html }) {
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  await frame();
  const t0 = performance.now();
  const template = document.createElement('template');
  template.innerHTML = html;
  document.getElementById('root').append(template.content);
  await frame();
  await frame();
  return { ms: performance.now() - t0, count: document.querySelectorAll('article').length };
}

export async function render() {
  const executablePath = findChromium();
  if (!executablePath) return emit({ bench: 'render', skipped: 'no chromium' });
  await access('dist/blogtalk.js'); // a missing bundle is a crash, not a skip
  const browser = await chromium.launch({ executablePath, args: chromiumArgs, headless: true });
  try {
    return await withServerChild({ mode: 'app', distDir: resolve('dist') }, async (server) => {
      const pageUrl = `${server.url}/bench-page`;
      const context = await browser.newContext();
      await context.route(pageUrl, (route) => route.fulfill({ contentType: 'text/html', body: pageHtml(server.url) }));
      const inPage = async (fn, arg) => {
        const page = await context.newPage();
        try {
          await page.goto(pageUrl);
          return await page.evaluate(fn, arg);
        } finally {
          await page.close();
        }
      };

      const results = [];
      for (const size of sizes) {
        log(`render: seeding ${size.comments} comments`);
        await server.call('seed', { post: size.post, threads: size.threads, replies: size.replies, prefix: `r${size.comments}` });
        const data = await (await fetch(`${server.url}/api/v1/comments?post=${encodeURIComponent(size.post)}&page-size=1000`)).json();
        if (data.comments.length !== size.comments) throw new Error(`expected ${size.comments} comments, got ${data.comments.length}`);
        const html = staticHtml(data.comments);
        const widget = [];
        const baseline = [];
        const fetches = [];
        // One discarded warm-up (script caches, JIT) before the first size only: time is short.
        for (let run = size === sizes[0] ? 0 : 1; run <= runs; run++) {
          const w = await inPage(widgetRun, { server: server.url, post: size.post, n: size.comments, timeoutMs });
          if (w.timedOut) throw new Error(`widget showed ${w.count} of ${size.comments} comments after ${timeoutMs} ms`);
          const b = await inPage(baselineRun, { html });
          if (b.count !== size.comments) throw new Error(`baseline has ${b.count} articles, expected ${size.comments}`);
          log(`render ${size.comments}: run ${run}${run ? '' : ' (warm-up)'}: widget ${w.ms.toFixed(0)} ms (fetch ${w.fetchMs?.toFixed(0)}), static ${b.ms.toFixed(0)} ms`);
          if (run === 0) continue;
          widget.push(w.ms);
          baseline.push(b.ms);
          if (w.fetchMs !== undefined) fetches.push(w.fetchMs);
        }
        results.push({
          comments: size.comments,
          shape: size.replies ? `${size.threads} threads × (1 + ${size.replies} replies)` : `${size.threads} threads`,
          widgetMs: round(median(widget), 1),
          fetchMs: fetches.length ? round(median(fetches), 1) : null,
          baseline: { staticHtmlMs: round(median(baseline), 1) },
          ratio: round(median(widget) / median(baseline), 2),
        });
      }
      const [small, large] = results;
      emit({ bench: 'render', runs, ...small, large });
    });
  } finally {
    await browser.close();
  }
}

// Browser tests: real Chromium, real IndexedDB, and the real reference server on loopback
// (started around the run by the plugin below). The page (http://localhost:<port>) and the
// server (http://127.0.0.1:<port>) are different origins, like a blog and its comment server.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher, defaultReporter } from '@web/test-runner';
import { rollup } from 'rollup';
import { countReporter } from './test/reporters/wtr-count-reporter.mjs';
import { chromiumArgs, requireChromium } from './test/support/chromium.mjs';

const testServerModule = resolve('build/test/support/test-server.js');
const faultProxyModule = resolve('build/test/support/fault-proxy.js');
const smtpInboxModule = resolve('build/test/support/smtp-inbox.js');

/** Newest modification time under a path (a file or a folder). */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** Builds dist/ with rollup.config.mjs unless the bundle is newer than src/ and the config. */
async function ensureBundle() {
  const bundle = resolve('dist/blogtalk.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= Math.max(newest('src'), newest('rollup.config.mjs'))) return;
  const { default: configs } = await import(pathToFileURL(resolve('rollup.config.mjs')).href);
  for (const config of [configs].flat()) {
    const build = await rollup({ ...config, onwarn: () => {} });
    await Promise.all([config.output].flat().map((output) => build.write(output)));
    await build.close();
  }
}

/** A strict page: no inline script, no eval, Trusted Types, styles only from 'self'. */
function cspHeader(server) {
  return [
    "default-src 'self'",
    `script-src 'self' ${server}`,
    "style-src 'self'",
    `connect-src 'self' ${server}`,
    "object-src 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');
}

function cspPage(server, post) {
  const attr = (value) => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>A strict page</title>
<script src="/test/browser/fixtures/csp-probe.js"></script>
<script src="${attr(server)}/blogtalk.js" defer></script>
</head>
<body>
<comment-thread post="${attr(post)}" page-title="A strict page"></comment-thread>
</body>
</html>`;
}

/**
 * Starts the reference server for the run, and a fault-injecting proxy in front of it
 * (test/support/fault-proxy.ts), and tells the tests where they are through the virtual module
 * `/__blogtalk__/server.js`; the proxy is driven from tests with the `blogtalk-fault` command
 * (`executeServerCommand('blogtalk-fault', { fault } | { down: true } | { up: true } | {})`,
 * each answering the proxy's counts). The middleware serves `/__blogtalk__/csp.html?post=…`,
 * a page under a strict Content-Security-Policy that loads the bundle from the server.
 */
function blogtalkServer() {
  let srv;
  let proxy;
  let port;
  /** A second server that sends email, to a loopback SMTP inbox: started by the first `blogtalk-mail` command. */
  let mail;
  // A middleware, not serve(): it runs before every plugin, so nothing can inject an inline
  // script into the strict page.
  const cspMiddleware = async (ctx, next) => {
    // A stand-in provider's picture (a 1×1 PNG), which the comment server fetches for pages.
    if (ctx.path === '/__blogtalk__/picture.png') {
      ctx.type = 'png';
      ctx.body = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
      return;
    }
    if (ctx.path !== '/__blogtalk__/csp.html') return next();
    ctx.set('Content-Security-Policy', cspHeader(srv.url));
    ctx.type = 'html';
    ctx.body = cspPage(srv.url, String(ctx.query.post ?? ''));
  };
  const plugin = {
    name: 'blogtalk-server',
    async serverStart({ config }) {
      if (!existsSync(testServerModule)) {
        throw new Error(`${testServerModule} is missing: build the server first (npx tsc -p tsconfig.server.json).`);
      }
      await ensureBundle();
      const { startTestServer } = await import(pathToFileURL(testServerModule).href);
      port = config.port;
      srv = await startTestServer({ allowedOrigins: [`http://localhost:${config.port}`], distDir: resolve('dist') });
      const { startFaultProxy } = await import(pathToFileURL(faultProxyModule).href);
      proxy = await startFaultProxy(srv.url);
    },
    async serverStop() {
      await proxy?.close();
      await srv?.close();
      await mail?.server.close();
      await mail?.inbox.close();
    },
    async executeCommand({ command, payload }) {
      if (command === 'blogtalk-sign-in') return srv.signIn(payload.name, { owns: payload.owns });
      // `blogtalk-clock` { shift: ms } moves the server's clock (0 puts it back).
      if (command === 'blogtalk-clock') return srv.shiftClock(payload.shift), true;
      // Sign-in for likes: a hand-off code for the page to redeem ({ name, origin }), or a like
      // by another reader through the API ({ like: { name, post, comment?, website? } }).
      if (command === 'blogtalk-auth') {
        const { like } = payload;
        if (like) return srv.like(like.name, like.post, like.comment, like.website).then(() => true);
        return srv.signIn(payload.name, { origin: payload.origin, picture: payload.picture });
      }
      // `blogtalk-mail`: the URL of a server that sends email, and what its SMTP inbox holds so far.
      if (command === 'blogtalk-mail') {
        if (!mail) {
          const { startTestServer } = await import(pathToFileURL(testServerModule).href);
          const { startSmtpInbox } = await import(pathToFileURL(smtpInboxModule).href);
          const inbox = await startSmtpInbox();
          const server = await startTestServer({
            allowedOrigins: [`http://localhost:${port}`],
            email: { smtpUrl: inbox.url, from: 'Comments <comments@example.org>' },
          });
          mail = { inbox, server };
        }
        return { server: mail.server.url, mails: mail.inbox.inbox.map((m) => ({ to: m.to, subject: m.headers.subject ?? '' })) };
      }
      if (command !== 'blogtalk-fault') return undefined;
      if (payload?.fault) proxy.setFault(payload.fault);
      if (payload?.down) await proxy.down();
      if (payload?.up) await proxy.up();
      return proxy.stats();
    },
    serve(context) {
      if (context.path === '/__blogtalk__/server.js') {
        return {
          body: `export const server = ${JSON.stringify(srv.url)};\nexport const blog = ${JSON.stringify(srv.blogOrigin)};\nexport const proxy = ${JSON.stringify(proxy.url)};\nexport const seed = ${JSON.stringify(process.env.BLOGTALK_SEED ?? '')};\n`,
          type: 'js',
        };
      }
    },
  };
  return { plugin, cspMiddleware };
}

const server = blogtalkServer();

export default {
  files: ['test/browser/**/*.test.ts'],
  nodeResolve: true,
  // One page at a time: tests type with the real keyboard and check focus, which only the
  // foreground page gets (and background pages have their timers throttled).
  concurrency: 1,
  testsFinishTimeout: 180_000,
  testFramework: { config: { timeout: 10_000 } },
  browsers: [chromeLauncher({ launchOptions: { executablePath: requireChromium(), headless: true, args: chromiumArgs } })],
  // Lit's development build (what nodeResolve picks) says so on every page; nothing to act on.
  filterBrowserLogs: ({ args }) => !String(args[0]).startsWith('Lit is in dev mode'),
  middleware: [server.cspMiddleware],
  plugins: [esbuildPlugin({ ts: true, tsconfig: 'tsconfig.json' }), server.plugin],
  reporters: [defaultReporter(), countReporter()],
};

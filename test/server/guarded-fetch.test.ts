/**
 * The guarded outbound fetch refuses non-public addresses — checked with an injected resolver,
 * so no test resolves a real name or connects anywhere but loopback.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  addressAllowed,
  createGuardedFetch,
  OutboundRefusedError,
  type Resolver,
} from '../../server/http/guarded-fetch.js';

/** A resolver from a fixed table; unknown names fail like NXDOMAIN. */
function table(entries: Record<string, string[]>): Resolver {
  return async (hostname) => {
    const addresses = entries[hostname];
    if (!addresses) throw new Error(`ENOTFOUND ${hostname}`);
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function refusal(promise: Promise<unknown>, reason: OutboundRefusedError['reason']): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    const refused = error instanceof OutboundRefusedError ? error : (error as { cause?: unknown }).cause;
    assert.ok(refused instanceof OutboundRefusedError, `expected a refusal, got ${String(error)}`);
    assert.equal(refused.reason, reason);
    return true;
  });
}

describe('guarded fetch', () => {
  let server: http.Server;
  let port: number;
  let connections = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/hello') return void res.end('hello');
      if (url.pathname === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
      if (url.pathname === '/to-private') return void res.writeHead(302, { location: `http://inside.test:${port}/hello` }).end();
      if (url.pathname === '/big') return void res.end(Buffer.alloc(64 * 1024, 'x'));
      if (url.pathname === '/slow') return; // never answers
      res.writeHead(404).end();
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('classifies addresses: private, loopback, link-local and special ones are not allowed', () => {
    for (const address of [
      '10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
      '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', '::ffff:127.0.0.1',
      '::ffff:10.0.0.1', 'not-an-ip',
    ]) {
      assert.equal(addressAllowed(address), false, address);
    }
    for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111']) assert.equal(addressAllowed(address), true, address);
    assert.equal(addressAllowed('127.0.0.1', true), true);
    assert.equal(addressAllowed('::1', true), true);
    assert.equal(addressAllowed('10.0.0.1', true), false, 'allowing loopback allows nothing else');
  });

  it('refuses a name that resolves to loopback, without connecting', async () => {
    const before = connections;
    const fetch = createGuardedFetch({ resolve: table({ 'evil.test': ['127.0.0.1'] }), allowHttp: true });
    await refusal(fetch(`http://evil.test:${port}/hello`), 'address');
    assert.equal(connections, before);
  });

  it('refuses names resolving to private, link-local or metadata addresses', async () => {
    const fetch = createGuardedFetch({
      resolve: table({
        'private.test': ['10.0.0.7'],
        'metadata.test': ['169.254.169.254'],
        'v6.test': ['fe80::1'],
        'mapped.test': ['::ffff:192.168.0.1'],
        'mixed.test': ['93.184.216.34', '10.0.0.1'],
      }),
    });
    for (const host of ['private.test', 'metadata.test', 'v6.test', 'mapped.test', 'mixed.test']) {
      await refusal(fetch(`https://${host}/api/v1/apps`), 'address');
    }
  });

  it('refuses IP literals on loopback too', async () => {
    const fetch = createGuardedFetch({ resolve: table({}), allowHttp: true });
    await refusal(fetch(`http://127.0.0.1:${port}/hello`), 'address');
    await refusal(fetch(`http://[::1]:${port}/hello`), 'address');
  });

  it('refuses plain http unless allowed, and URLs with credentials', async () => {
    const fetch = createGuardedFetch({ resolve: table({ 'ok.test': ['127.0.0.1'] }), allowLoopback: true });
    await refusal(fetch(`http://ok.test:${port}/hello`), 'scheme');
    await refusal(fetch('file:///etc/passwd'), 'scheme');
    const http = createGuardedFetch({ resolve: table({ 'ok.test': ['127.0.0.1'] }), allowLoopback: true, allowHttp: true });
    await refusal(http(`http://user:pw@ok.test:${port}/hello`), 'scheme');
  });

  it('reaches loopback when a test configuration allows it', async () => {
    const fetch = createGuardedFetch({ resolve: table({ 'ok.test': ['127.0.0.1'] }), allowLoopback: true, allowHttp: true });
    const response = await fetch(`http://ok.test:${port}/hello`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'hello');
  });

  it('checks every redirect hop again', async () => {
    const fetch = createGuardedFetch({
      resolve: table({ 'ok.test': ['127.0.0.1'], 'inside.test': ['10.0.0.1'] }),
      allowLoopback: true,
      allowHttp: true,
    });
    await refusal(fetch(`http://ok.test:${port}/to-private`), 'address');
    const manual = await fetch(`http://ok.test:${port}/to-private`, { redirect: 'manual' });
    assert.equal(manual.status, 302, 'manual redirects are returned, not followed');
  });

  it('limits redirects, size and time', async () => {
    const fetch = createGuardedFetch({
      resolve: table({ 'ok.test': ['127.0.0.1'] }),
      allowLoopback: true,
      allowHttp: true,
      maxBytes: 1000,
      timeoutMs: 300,
    });
    await refusal(fetch(`http://ok.test:${port}/loop`), 'redirects');
    await refusal(fetch(`http://ok.test:${port}/big`), 'size');
    await refusal(fetch(`http://ok.test:${port}/slow`), 'timeout');
  });

  it('refuses names that do not resolve', async () => {
    const fetch = createGuardedFetch({ resolve: table({}) });
    await refusal(fetch('https://nowhere.test/'), 'resolve');
  });
});

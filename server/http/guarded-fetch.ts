/**
 * The one way the server reaches out to addresses that users can name (Mastodon app
 * registration, later Webmention verification and Akismet): every connection resolves the host
 * name first and refuses private, loopback, link-local and other special addresses (loopback
 * only when a test configuration allows it). The check runs inside the socket's `lookup`, so the
 * address that is checked is the address connected to (no DNS-rebinding gap), and it runs again
 * for every redirect hop. Redirects, time and response size are bounded.
 *
 * The result is a standard `Response`, so it can serve as `openid-client`'s `customFetch`.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/** One resolved address. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses (injectable so tests never need DNS). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface GuardedFetchOptions {
  resolve?: Resolver;
  /** Lets loopback addresses through (tests and local development only). */
  allowLoopback?: boolean;
  /** Lets `http:` URLs through (default: https only; tests on loopback need http). */
  allowHttp?: boolean;
  /** Most redirects followed (default 3). */
  maxRedirects?: number;
  /** Whole request, redirects included, in ms (default 5000). */
  timeoutMs?: number;
  /** Largest response body in bytes (default 1 MiB). */
  maxBytes?: number;
}

export interface GuardedRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | URLSearchParams | Uint8Array | ArrayBuffer | null;
  /** `manual` returns 3xx responses as they are (what openid-client asks for). */
  redirect?: 'follow' | 'manual' | 'error';
  signal?: AbortSignal | null;
}

export type GuardedFetch = (url: string | URL, init?: GuardedRequestInit) => Promise<Response>;

/** Why a request was refused before (or while) connecting. */
export class OutboundRefusedError extends Error {
  constructor(
    message: string,
    readonly reason: 'address' | 'scheme' | 'redirects' | 'size' | 'timeout' | 'resolve',
  ) {
    super(message);
    this.name = 'OutboundRefusedError';
  }
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this" network
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64 (could reach IPv4 private space)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

function isLoopback(address: string): boolean {
  return address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}

/** Whether the server may connect to this address. IPv4-mapped IPv6 is judged as IPv4. */
export function addressAllowed(address: string, allowLoopback = false): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const plain = mapped ? mapped[1]! : address;
  const family = isIP(plain);
  if (family === 0) return false;
  if (allowLoopback && isLoopback(plain)) return true;
  return !blocked.check(plain, family === 4 ? 'ipv4' : 'ipv6');
}

const systemResolver: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

function bodyBytes(body: GuardedRequestInit['body']): Buffer | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), 'utf8');
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

/** The environment switch that lets a real server process fetch loopback addresses (tests only). */
export const ALLOW_LOOPBACK_ENV = 'BLOGTALK_OUTBOUND_ALLOW_LOOPBACK';

/**
 * The outbound options a server process takes from its environment: strict, unless
 * `BLOGTALK_OUTBOUND_ALLOW_LOOPBACK=1`, which lets loopback addresses and plain `http:` through
 * (two server processes talking on one machine in tests). Honoured only in demo mode or with
 * `NODE_ENV=test`, so that it is never on by accident in production: elsewhere it throws.
 * Returns null when the switch is off.
 */
export function loopbackOutboundFromEnv(env: NodeJS.ProcessEnv, demo: boolean): GuardedFetchOptions | null {
  const value = env[ALLOW_LOOPBACK_ENV];
  if (value === undefined || value === '' || value === '0') return null;
  if (value !== '1') throw new Error(`${ALLOW_LOOPBACK_ENV} must be 1 or unset, got "${value}"`);
  if (!demo && env.NODE_ENV !== 'test') {
    throw new Error(`${ALLOW_LOOPBACK_ENV}=1 is for tests only: it needs demo mode (--demo) or NODE_ENV=test`);
  }
  return { allowLoopback: true, allowHttp: true };
}

export function createGuardedFetch(options: GuardedFetchOptions = {}): GuardedFetch {
  const resolve = options.resolve ?? systemResolver;
  const maxRedirects = options.maxRedirects ?? 3;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 1024 * 1024;

  /** Every connection's name lookup: resolve, then refuse unless every address is public. */
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const fail = (error: Error) => callback(error as NodeJS.ErrnoException, '', 4);
    const literal = isIP(hostname.replace(/^\[|\]$/g, ''));
    const resolved: Promise<ResolvedAddress[]> = literal
      ? Promise.resolve([{ address: hostname.replace(/^\[|\]$/g, ''), family: literal as 4 | 6 }])
      : resolve(hostname);
    resolved.then(
      (addresses) => {
        if (addresses.length === 0) return fail(new OutboundRefusedError(`${hostname} does not resolve`, 'resolve'));
        const bad = addresses.find((a) => !addressAllowed(a.address, options.allowLoopback));
        if (bad) {
          return fail(new OutboundRefusedError(`${hostname} resolves to a non-public address (${bad.address})`, 'address'));
        }
        if (lookupOptions.all) {
          (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, addresses);
        } else {
          callback(null, addresses[0]!.address, addresses[0]!.family);
        }
      },
      (error: Error) => fail(new OutboundRefusedError(`cannot resolve ${hostname}: ${error.message}`, 'resolve')),
    );
  };

  function once(url: URL, init: GuardedRequestInit, signal: AbortSignal): Promise<Response> {
    return new Promise<Response>((resolvePromise, reject) => {
      const client = url.protocol === 'https:' ? https : http;
      const body = bodyBytes(init.body);
      const request = client.request(
        url,
        {
          method: init.method ?? 'GET',
          headers: { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) },
          lookup: guardedLookup,
          signal,
          // One socket per request, so each hop is looked up (and checked) afresh.
          agent: false,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBytes) {
              response.destroy();
              reject(new OutboundRefusedError(`response from ${url.host} is larger than ${maxBytes} bytes`, 'size'));
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', reject);
          response.on('end', () => {
            const headers = new Headers();
            for (const [name, value] of Object.entries(response.headers)) {
              if (value === undefined) continue;
              for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
            }
            const status = response.statusCode ?? 502;
            const nullBody = status === 204 || status === 304 || (init.method ?? 'GET') === 'HEAD';
            resolvePromise(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers }));
          });
        },
      );
      request.on('error', (error) => {
        if (signal.aborted && !(error instanceof OutboundRefusedError)) {
          reject(new OutboundRefusedError(`request to ${url.host} took longer than ${timeoutMs} ms`, 'timeout'));
        } else reject(error);
      });
      request.end(body);
    });
  }

  return async (input, init = {}) => {
    const signals = [AbortSignal.timeout(timeoutMs), ...(init.signal ? [init.signal] : [])];
    const signal = AbortSignal.any(signals);
    let url = new URL(String(input));
    let current: GuardedRequestInit = init;
    for (let hop = 0; ; hop++) {
      if (url.protocol !== 'https:' && !(options.allowHttp && url.protocol === 'http:')) {
        throw new OutboundRefusedError(`only https URLs may be fetched, not ${url.protocol}`, 'scheme');
      }
      if (url.username || url.password) throw new OutboundRefusedError('URLs with credentials are refused', 'scheme');
      // Sockets skip the lookup for IP literals, so those are checked here.
      const literal = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(literal) && !addressAllowed(literal, options.allowLoopback)) {
        throw new OutboundRefusedError(`${literal} is not a public address`, 'address');
      }
      const response = await once(url, current, signal);
      const location = response.headers.get('location');
      const from = url.origin;
      if (init.redirect === 'manual' || response.status < 300 || response.status >= 400 || !location) return response;
      if (init.redirect === 'error' || hop >= maxRedirects) {
        throw new OutboundRefusedError(`more than ${maxRedirects} redirects from ${String(input)}`, 'redirects');
      }
      url = new URL(location, url);
      // Credentials never follow a redirect to another origin.
      if (url.origin !== from && current.headers) {
        const headers = Object.fromEntries(
          Object.entries(current.headers).filter(([name]) => !/^(authorization|cookie)$/i.test(name)),
        );
        current = { ...current, headers };
      }
      // 303, and 301/302 after a POST, become a GET without a body (as browsers do).
      const method = current.method ?? 'GET';
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        const { body: _body, ...rest } = current;
        current = { ...rest, method: 'GET' };
      }
    }
  };
}

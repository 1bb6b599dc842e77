/**
 * A fault-injecting HTTP proxy in front of the real server, for outbox tests: it forwards every
 * request as is, except that the next `count` comment POSTs (`POST /api/v1/comments`) meet the
 * fault set with `setFault` (or `POST /__fault` with the same JSON, CORS open):
 * - `status`: answered with `status` (and `Retry-After` when given), never forwarded;
 * - `drop-response`: forwarded — the server stores the comment — but the reply is dropped and the
 *   connection reset, so the client sees a network error;
 * - `hang`: forwarded, and the reply withheld until the fault is cleared (a client timeout);
 * - `reset`: the connection is reset before anything is forwarded.
 * `down()` stops listening (connection refused) and `up()` listens on the same port again.
 */
import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultMode = 'none' | 'status' | 'drop-response' | 'hang' | 'reset';

export interface Fault {
  mode: FaultMode;
  status?: number;
  /** Seconds, sent as `Retry-After` with `status`. */
  retryAfter?: number;
  /** How many comment POSTs meet it; then it clears itself. Default 1. */
  count?: number;
}

export interface FaultStats {
  /** Comment POSTs that reached the proxy. */
  posts: number;
  /** Comment POSTs forwarded to the server. */
  forwarded: number;
  /** Comment POSTs that met a fault. */
  faulted: number;
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:40124 */
  url: string;
  setFault(fault: Fault): void;
  stats(): FaultStats;
  /** Stops listening and drops every open connection: new requests are refused. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, host = '127.0.0.1'): Promise<FaultProxy> {
  const upstream = new URL(target);
  let fault: Required<Fault> = { mode: 'none', status: 0, retryAfter: 0, count: 0 };
  const stats: FaultStats = { posts: 0, forwarded: 0, faulted: 0 };
  const held = new Set<() => void>();
  const sockets = new Set<Socket>();

  const setFault = (next: Fault) => {
    fault = { status: 0, retryAfter: 0, count: 1, ...next };
    if (fault.mode !== 'hang') for (const release of [...held]) release();
  };

  const cors = (res: ServerResponse) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'content-type');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
  };

  function pass(req: IncomingMessage, res: ServerResponse, body: Buffer, after: 'send' | 'drop' | 'hold'): void {
    const out = forward(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          const reply = () => {
            if (after === 'drop' || res.destroyed) {
              req.socket.destroy();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(chunks));
          };
          if (after !== 'hold') return reply();
          const release = () => {
            held.delete(release);
            req.socket.destroy();
          };
          held.add(release);
        });
      },
    );
    out.on('error', () => req.socket.destroy());
    out.end(body);
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/__fault') {
        cors(res);
        if (req.method === 'POST') setFault(JSON.parse(body.toString() || '{}') as Fault);
        res.writeHead(req.method === 'OPTIONS' ? 204 : 200, { 'content-type': 'application/json' });
        res.end(req.method === 'OPTIONS' ? undefined : JSON.stringify(stats));
        return;
      }
      const isPost = req.method === 'POST' && req.url?.split('?')[0] === '/api/v1/comments';
      if (!isPost) return pass(req, res, body, 'send');
      stats.posts++;
      const mode = fault.count > 0 ? fault.mode : 'none';
      if (mode !== 'none') {
        stats.faulted++;
        if (--fault.count <= 0) fault = { ...fault, mode: 'none' };
      }
      if (mode === 'reset') return void req.socket.destroy();
      if (mode === 'status') {
        const origin = req.headers.origin;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (origin) headers['access-control-allow-origin'] = origin;
        if (fault.retryAfter) {
          headers['retry-after'] = String(fault.retryAfter);
          headers['access-control-expose-headers'] = 'Retry-After';
        }
        res.writeHead(fault.status, headers);
        res.end(JSON.stringify({ error: { code: `injected_${fault.status}`, message: `Injected ${fault.status}.` } }));
        return;
      }
      stats.forwarded++;
      pass(req, res, body, mode === 'drop-response' ? 'drop' : mode === 'hang' ? 'hold' : 'send');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number) =>
    server.listening ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = () =>
    !server.listening ? Promise.resolve() : new Promise<void>((resolve) => {
      for (const release of [...held]) release();
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });

  await listen(0);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    setFault,
    stats: () => ({ ...stats }),
    down: stop,
    up: () => listen(port),
    close: stop,
  };
}

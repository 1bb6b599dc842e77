/**
 * A loopback TCP front for end-to-end tests, like a load balancer the test steers: each new
 * connection is piped to the port it points at when the connection opens; pointing it at
 * `null` refuses new connections (accepted and closed at once). Connections already open
 * stay with their instance until it goes away, and then close too.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface SwitchProxy {
  /** e.g. http://127.0.0.1:40125 */
  url: string;
  /** Where new connections go from now on (a loopback port), or nowhere. */
  point(port: number | null): void;
  /** Connections open now (each client connection counts once). */
  open(): number;
  close(): Promise<void>;
}

export async function startSwitchProxy(port: number | null): Promise<SwitchProxy> {
  let target = port;
  const clients = new Set<Socket>();
  const server = createServer((client) => {
    if (target === null) {
      client.destroy();
      return;
    }
    const upstream = connect(target, '127.0.0.1');
    clients.add(client);
    const end = () => {
      clients.delete(client);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    point(next) {
      target = next;
    },
    open: () => clients.size,
    async close() {
      for (const client of clients) client.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

// The `fanout` bench's baseline: a bare Fastify server with the same transport as the live
// route and nothing else. GET /events holds a Server-Sent Events stream open; POST /post?id=X
// writes one `event: comment` frame (a comment-sized JSON) to every open stream at once.
// No store, no site lookup, no serialization per comment: the floor for fan-out latency on
// this machine. Sends { ready: { url } } over IPC; exits when the parent goes away.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const streams = new Set();
let seq = 0;

app.get('/events', (request, reply) => {
  reply.hijack();
  reply.raw.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache' });
  reply.raw.write('retry: 3000\n\n');
  streams.add(reply.raw);
  reply.raw.on('close', () => streams.delete(reply.raw));
});

app.post('/post', async (request) => {
  const id = String(request.query.id);
  seq += 1;
  const data = {
    id, post: 'https://bench.test/fanout', parent: null, depth: 0, kind: 'comment', status: 'published',
    author: { name: 'Bench', website: null, avatar: 'a'.repeat(32) }, body: 'x'.repeat(200),
    created: new Date().toISOString(), reblog: null,
  };
  const message = `id: ${seq}\nevent: comment\ndata: ${JSON.stringify(data)}\n\n`;
  for (const raw of streams) raw.write(message);
  return { id };
});

process.on('disconnect', () => {
  for (const raw of streams) raw.destroy();
  app.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2_000).unref();
});

const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.send({ ready: { url: address } });

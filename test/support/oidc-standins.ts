/**
 * Local stand-ins for the presets' real providers, serving their documented endpoints and
 * response shapes on loopback (auto-approving the reader):
 *
 * - GitHub: GET /login/oauth/authorize, POST /login/oauth/access_token, GET /user
 * - WordPress.com: GET /oauth2/authorize, POST /oauth2/token, GET /rest/v1.1/me
 * - Mastodon: POST /api/v1/apps, GET /oauth/authorize, POST /oauth/token,
 *   GET /api/v1/accounts/verify_credentials
 *
 * Each token endpoint checks the client, the redirect URI and the PKCE verifier (S256).
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface Pending {
  clientId: string;
  redirectUri: string;
  challenge: string | null;
  user: string;
}

export interface StandIns {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Calls per path, to prove caching. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export const standInClients = {
  github: { clientId: 'gh-client', clientSecret: 'gh-secret' },
  wordpress: { clientId: '4242', clientSecret: 'wp-secret' },
};

async function readBody(req: http.IncomingMessage): Promise<URLSearchParams | Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if ((req.headers['content-type'] ?? '').includes('application/json')) return JSON.parse(text) as Record<string, unknown>;
  return new URLSearchParams(text);
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startStandIns(): Promise<StandIns> {
  const codes = new Map<string, Pending>();
  const tokens = new Map<string, string>(); // token → user kind
  const mastodonApps = new Map<string, { secret: string; redirectUri: string }>();
  const calls = new Map<string, number>();

  function authorize(url: URL, res: http.ServerResponse, user: string, knownClient: (id: string) => boolean) {
    const clientId = url.searchParams.get('client_id') ?? '';
    const redirectUri = url.searchParams.get('redirect_uri') ?? '';
    if (!knownClient(clientId)) return json(res, 400, { error: 'unknown client' });
    const code = randomBytes(12).toString('hex');
    codes.set(code, { clientId, redirectUri, challenge: url.searchParams.get('code_challenge'), user });
    const back = new URL(redirectUri);
    back.searchParams.set('code', code);
    back.searchParams.set('state', url.searchParams.get('state') ?? '');
    res.writeHead(302, { location: back.href }).end();
  }

  function token(params: URLSearchParams, res: http.ServerResponse, secretOf: (id: string) => string | undefined) {
    const pending = codes.get(params.get('code') ?? '');
    codes.delete(params.get('code') ?? '');
    const clientId = params.get('client_id') ?? '';
    if (!pending || pending.clientId !== clientId || secretOf(clientId) !== params.get('client_secret')) {
      return json(res, 400, { error: 'invalid_grant' });
    }
    if (pending.redirectUri !== params.get('redirect_uri')) return json(res, 400, { error: 'invalid_grant' });
    const verifier = params.get('code_verifier') ?? '';
    if (pending.challenge && createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) {
      return json(res, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
    }
    const accessToken = randomBytes(16).toString('hex');
    tokens.set(accessToken, pending.user);
    json(res, 200, { access_token: accessToken, token_type: 'bearer', scope: 'read' });
  }

  function bearer(req: http.IncomingMessage): string | undefined {
    return tokens.get((req.headers.authorization ?? '').replace(/^Bearer /i, ''));
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://standin');
      calls.set(url.pathname, (calls.get(url.pathname) ?? 0) + 1);
      const gh = standInClients.github;
      const wp = standInClients.wordpress;
      switch (`${req.method} ${url.pathname}`) {
        case 'GET /login/oauth/authorize':
          return authorize(url, res, 'github', (id) => id === gh.clientId);
        case 'POST /login/oauth/access_token':
          return token((await readBody(req)) as URLSearchParams, res, (id) => (id === gh.clientId ? gh.clientSecret : undefined));
        case 'GET /user':
          if (bearer(req) !== 'github') return json(res, 401, { message: 'Bad credentials' });
          return json(res, 200, {
            login: 'octocat',
            id: 583231,
            avatar_url: 'https://avatars.githubusercontent.com/u/583231?v=4',
            html_url: 'https://github.com/octocat',
            name: 'The Octocat',
            blog: 'https://github.blog',
          });
        case 'GET /oauth2/authorize':
          return authorize(url, res, 'wordpress', (id) => id === wp.clientId);
        case 'POST /oauth2/token':
          return token((await readBody(req)) as URLSearchParams, res, (id) => (id === wp.clientId ? wp.clientSecret : undefined));
        case 'GET /rest/v1.1/me':
          if (bearer(req) !== 'wordpress') return json(res, 403, { error: 'authorization_required' });
          return json(res, 200, {
            ID: 7007,
            display_name: 'Word Presser',
            username: 'wordpresser',
            email: 'presser@example.org',
            email_verified: true,
            avatar_URL: 'https://0.gravatar.com/avatar/abc',
            profile_URL: 'https://gravatar.com/wordpresser',
          });
        case 'POST /api/v1/apps': {
          const body = (await readBody(req)) as Record<string, unknown>;
          const id = randomBytes(8).toString('hex');
          mastodonApps.set(id, { secret: randomBytes(8).toString('hex'), redirectUri: String(body['redirect_uris']) });
          return json(res, 200, {
            id: '1',
            name: body['client_name'],
            redirect_uri: body['redirect_uris'],
            client_id: id,
            client_secret: mastodonApps.get(id)!.secret,
          });
        }
        case 'GET /oauth/authorize':
          return authorize(url, res, 'mastodon', (id) => mastodonApps.has(id));
        case 'POST /oauth/token':
          return token((await readBody(req)) as URLSearchParams, res, (id) => mastodonApps.get(id)?.secret);
        case 'GET /api/v1/accounts/verify_credentials':
          if (bearer(req) !== 'mastodon') return json(res, 401, { error: 'The access token is invalid' });
          return json(res, 200, {
            id: '109372843234',
            username: 'toot',
            acct: 'toot',
            display_name: 'Toot Reader',
            avatar: 'https://files.mastodon.test/avatar.png',
            url: 'https://mastodon.test/@toot',
          });
        default:
          return json(res, 404, { error: 'not found' });
      }
    })().catch((error: unknown) => json(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

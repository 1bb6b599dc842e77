/**
 * A local development OpenID Connect provider (`oidc-provider`) on its own loopback port, with
 * one account you sign in as by pressing a button — no password. Demo mode (`npm start`) and
 * the tests use it; `npm run serve` never starts it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { ProviderConfig } from './providers.js';

export interface DevAccount {
  sub: string;
  name: string;
  email: string;
}

export interface DevProviderOptions {
  /** Exact redirect URIs the client may use (`<server>/api/v1/auth/callback/<id>`). */
  redirectUris: string[];
  /** Listening host (default 127.0.0.1); the issuer uses `issuerHost` or this. */
  host?: string;
  issuerHost?: string;
  port?: number;
  /** Provider id on the blogtalk side (default `demo`). */
  id?: string;
  account?: DevAccount;
}

export interface DevProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The blogtalk provider configuration that uses it. */
  config: ProviderConfig;
  /** The oidc-provider instance (tests inspect it). */
  provider: Provider;
  close(): Promise<void>;
}

export const DEV_PROVIDER_NAME = 'Demo sign-in (development only)';

export const DEV_ACCOUNT: DevAccount = { sub: 'dev-reader', name: 'Dev Reader', email: 'dev-reader@example.invalid' };

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width"></head>
<body style="font:16px system-ui;max-width:28rem;margin:3rem auto;padding:0 1rem">${body}</body></html>`;
}

export async function startDevProvider(options: DevProviderOptions): Promise<DevProvider> {
  const account = options.account ?? DEV_ACCOUNT;
  const clientId = 'blogtalk-dev';
  const clientSecret = randomBytes(24).toString('base64url');
  const host = options.host ?? '127.0.0.1';
  let provider: Provider | undefined;
  let callback: ReturnType<Provider['callback']> | undefined;

  const server = http.createServer((req, res) => {
    const match = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec((req.url ?? '').split('?')[0]!);
    if (match && provider) {
      void interaction(provider, req, res, match[1]!).catch((error: unknown) => {
        res.statusCode = 400;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(`Sign-in step failed: ${(error as Error).message}`);
      });
      return;
    }
    if (callback) callback(req, res);
    else res.end();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const issuer = `http://${options.issuerHost ?? host}:${port}`;

  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'dev', alg: 'RS256', use: 'sig' }] as never },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: { devInteractions: { enabled: false } },
    claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
    // Explicit lifetimes (seconds), which also keeps oidc-provider from noting its defaults.
    ttl: { AuthorizationCode: 60, AccessToken: 600, IdToken: 600, Interaction: 600, Grant: 3600, Session: 3600 },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      if (id !== account.sub) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: account.name, email: account.email, email_verified: true };
        },
      };
    },
  });
  callback = provider.callback();

  return {
    issuer,
    clientId,
    clientSecret,
    provider,
    config: {
      type: 'oidc',
      id: options.id ?? 'demo',
      name: DEV_PROVIDER_NAME,
      icon: '/api/v1/auth/icons/demo.svg',
      issuer,
      clientId,
      clientSecret,
      allowInsecure: true,
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };

  /** GET: a page with one button; POST: sign in as the dev account and grant what was asked. */
  async function interaction(p: Provider, req: http.IncomingMessage, res: http.ServerResponse, uid: string) {
    const details = await p.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'GET') {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('cache-control', 'no-store');
      res.end(
        page(
          DEV_PROVIDER_NAME,
          `<h1>${DEV_PROVIDER_NAME}</h1><p>This local provider exists only in demo mode. No password: ` +
            `press the button to continue as <strong>${account.name}</strong>.</p>` +
            `<form method="post" action="/interaction/${uid}"><button type="submit">Continue as ${account.name}</button></form>`,
        ),
      );
      return;
    }
    for await (const _chunk of req) {
      // the form has no fields worth reading
    }
    const clientId = String(details.params['client_id']);
    const grant = details.grantId
      ? ((await p.Grant.find(details.grantId)) ?? new p.Grant({ accountId: account.sub, clientId }))
      : new p.Grant({ accountId: account.sub, clientId });
    grant.addOIDCScope(String(details.params['scope'] ?? 'openid'));
    const grantId = await grant.save();
    await p.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }
}

/**
 * Sign-in providers, configured by the server owner (`BLOGTALK_PROVIDERS`: a JSON array, or the
 * path of a file holding one). The server is the OAuth client for each: authorization code +
 * PKCE + state (+ nonce for OpenID Connect), through `openid-client`.
 *
 *   { "type": "oidc", "id": "idp", "name": "My IdP", "issuer": "https://idp.example", "clientId", "clientSecret" }
 *   { "type": "google", "clientId", "clientSecret" }                  OpenID Connect preset
 *   { "type": "github", "clientId", "clientSecret" }                  OAuth 2 + the user API
 *   { "type": "wordpress", "clientId", "clientSecret" }               WordPress.com OAuth 2 + /me
 *   { "type": "mastodon" }                                            any instance, registered on demand
 *
 * Presets take optional endpoint overrides (`authorizationUrl`, `tokenUrl`, `apiUrl`) so tests
 * can point them at local stand-ins.
 */
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import type { GuardedFetch } from '../http/guarded-fetch.js';
import type { RegisteredClient, UserProfile } from '../store/store.js';

interface Common {
  /** Id in URLs (`/api/v1/auth/start/<id>`); default: the type. */
  id?: string;
  /** Shown as "Log in with <name>". */
  name?: string;
  /** Icon URL; presets have their own. */
  icon?: string;
  /** Allow http:// endpoints (loopback tests and the demo provider only). */
  allowInsecure?: boolean;
}

export type ProviderConfig = Common &
  (
    | { type: 'oidc'; issuer: string; clientId: string; clientSecret?: string; scope?: string }
    | { type: 'google'; clientId: string; clientSecret: string; issuer?: string }
    | { type: 'github'; clientId: string; clientSecret: string; authorizationUrl?: string; tokenUrl?: string; apiUrl?: string }
    | { type: 'wordpress'; clientId: string; clientSecret: string; authorizationUrl?: string; tokenUrl?: string; apiUrl?: string }
    | { type: 'mastodon'; scope?: string }
  );

/** What the browser may know of a provider. */
export interface PublicProvider {
  id: string;
  name: string;
  icon: string;
  /** `mastodon`: ask the reader for their instance and pass it as `instance`. */
  kind: 'oidc' | 'oauth2' | 'mastodon';
}

/** What `start` keeps until `callback`. */
export interface StartedSignIn {
  url: URL;
  /** Provider-specific JSON kept with the transaction (the Mastodon instance). */
  data: string | null;
}

export interface ProviderContext {
  /** For the outbound requests to user-named hosts (Mastodon). */
  guardedFetch: GuardedFetch;
  /** Cached dynamic registrations (Mastodon), shared by instances through the store. */
  registrations: {
    get(key: string): Promise<RegisteredClient | null>;
    put(client: RegisteredClient): Promise<RegisteredClient>;
  };
  /** Refuses when too many new registrations are made (rate limit); throws to refuse. */
  allowRegistration(): void;
  /** Base URL of the icons (`<server>/api/v1/auth/icons/`). */
  iconBase: string;
}

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** One configured provider at run time. */
export interface Provider {
  readonly info: PublicProvider;
  start(params: { redirectUri: string; state: string; nonce: string; codeChallenge: string; instance?: string }): Promise<StartedSignIn>;
  /** Exchanges the code (checking state, PKCE and nonce) and returns who signed in. */
  finish(params: {
    callbackUrl: URL;
    redirectUri: string;
    state: string;
    nonce: string;
    codeVerifier: string;
    data: string | null;
  }): Promise<UserProfile>;
}

const presetNames = { oidc: 'OpenID Connect', google: 'Google', github: 'GitHub', wordpress: 'WordPress.com', mastodon: 'Mastodon' };

/** Parses `BLOGTALK_PROVIDERS` (JSON, or a path to a JSON file); throws with a clear message. */
export function providersFromEnv(env: NodeJS.ProcessEnv): ProviderConfig[] {
  const raw = env.BLOGTALK_PROVIDERS?.trim();
  if (!raw) return [];
  const text = raw.startsWith('[') ? raw : readFileSync(raw, 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('BLOGTALK_PROVIDERS must be a JSON array of providers, or the path of a file holding one');
  }
  if (!Array.isArray(value)) throw new Error('BLOGTALK_PROVIDERS must be a JSON array');
  const ids = new Set<string>();
  return value.map((entry: unknown, i) => {
    const p = entry as ProviderConfig;
    if (!p || typeof p !== 'object' || !(p.type in presetNames)) {
      throw new Error(`BLOGTALK_PROVIDERS[${i}]: type must be one of ${Object.keys(presetNames).join(', ')}`);
    }
    const id = p.id ?? p.type;
    if (!/^[a-z0-9-]{1,40}$/.test(id)) throw new Error(`BLOGTALK_PROVIDERS[${i}]: id must be lowercase letters, digits, "-"`);
    if (ids.has(id)) throw new Error(`BLOGTALK_PROVIDERS: two providers with id "${id}"`);
    ids.add(id);
    if (p.type !== 'mastodon' && (typeof p.clientId !== 'string' || !p.clientId)) {
      throw new Error(`BLOGTALK_PROVIDERS[${i}] (${id}): clientId is required`);
    }
    if (p.type === 'oidc' && typeof p.issuer !== 'string') throw new Error(`BLOGTALK_PROVIDERS[${i}] (${id}): issuer is required`);
    return p;
  });
}

function insecure(config: { allowInsecure?: boolean }): { execute?: Array<(c: client.Configuration) => void> } {
  return config.allowInsecure ? { execute: [client.allowInsecureRequests] } : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.trim() ? value.trim() : null;
}

function httpsOrNull(value: unknown): string | null {
  const s = str(value);
  if (!s) return null;
  try {
    const url = new URL(s);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** Fetches JSON with a bearer token; throws ProviderError on anything but a 2xx JSON object. */
async function userApi(fetcher: typeof fetch | GuardedFetch, url: string, token: string): Promise<Record<string, unknown>> {
  const response = await fetcher(url, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'user-agent': 'blogtalk' },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new ProviderError(`the provider's user API answered ${response.status}`, 'provider_error');
  const body = (await response.json()) as unknown;
  if (!body || typeof body !== 'object') throw new ProviderError("the provider's user API sent no profile", 'provider_error');
  return body as Record<string, unknown>;
}

/** Any OpenID Connect issuer, by discovery. */
class OidcProvider implements Provider {
  #config: Promise<client.Configuration> | undefined;
  constructor(
    readonly info: PublicProvider,
    private readonly issuer: string,
    private readonly clientId: string,
    private readonly clientSecret: string | undefined,
    private readonly scope: string,
    private readonly allowInsecure: boolean,
  ) {}

  config(): Promise<client.Configuration> {
    this.#config ??= client
      .discovery(new URL(this.issuer), this.clientId, this.clientSecret, undefined, insecure({ allowInsecure: this.allowInsecure }))
      .catch((error: unknown) => {
        this.#config = undefined; // try discovery again next time
        throw new ProviderError(`cannot reach ${this.issuer}: ${(error as Error).message}`, 'provider_unavailable');
      });
    return this.#config;
  }

  async start(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): Promise<StartedSignIn> {
    const url = client.buildAuthorizationUrl(await this.config(), {
      redirect_uri: p.redirectUri,
      scope: this.scope,
      state: p.state,
      nonce: p.nonce,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
    });
    return { url, data: null };
  }

  async finish(p: { callbackUrl: URL; state: string; nonce: string; codeVerifier: string }): Promise<UserProfile> {
    const config = await this.config();
    const tokens = await client.authorizationCodeGrant(config, p.callbackUrl, {
      pkceCodeVerifier: p.codeVerifier,
      expectedState: p.state,
      expectedNonce: p.nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    if (!claims) throw new ProviderError('the provider sent no ID token', 'provider_error');
    let info: Record<string, unknown> = claims;
    if (!str(claims['name']) && config.serverMetadata().userinfo_endpoint) {
      info = { ...(await client.fetchUserInfo(config, tokens.access_token, claims.sub)), ...claims };
    }
    return {
      issuer: claims.iss,
      subject: claims.sub,
      name: str(info['name']) ?? str(info['preferred_username']) ?? str(info['nickname']) ?? 'Reader',
      picture: httpsOrNull(info['picture']),
      website: httpsOrNull(info['website']) ?? httpsOrNull(info['profile']),
      email: info['email_verified'] === false ? null : str(info['email']),
    };
  }
}

interface OAuthEndpoints {
  issuer: string;
  authorizationUrl: string;
  tokenUrl: string;
}

/** Plain OAuth 2 (GitHub, WordPress.com, Mastodon): code + PKCE + state, then a user API. */
abstract class OAuth2Provider implements Provider {
  constructor(
    readonly info: PublicProvider,
    protected readonly allowInsecure: boolean,
  ) {}

  protected configuration(endpoints: OAuthEndpoints, clientId: string, clientSecret: string | null, fetcher?: GuardedFetch) {
    const config = new client.Configuration(
      {
        issuer: endpoints.issuer,
        authorization_endpoint: endpoints.authorizationUrl,
        token_endpoint: endpoints.tokenUrl,
      },
      clientId,
      clientSecret ?? undefined,
      clientSecret ? client.ClientSecretPost(clientSecret) : client.None(),
    );
    if (this.allowInsecure) client.allowInsecureRequests(config);
    if (fetcher) config[client.customFetch] = (url, options) => fetcher(url, options as never);
    return config;
  }

  protected async exchange(
    config: client.Configuration,
    p: { callbackUrl: URL; state: string; codeVerifier: string },
  ): Promise<string> {
    // No ID token here: state and PKCE bind the response to this sign-in.
    const tokens = await client.authorizationCodeGrant(config, p.callbackUrl, {
      pkceCodeVerifier: p.codeVerifier,
      expectedState: p.state,
    });
    return tokens.access_token;
  }

  abstract start(p: { redirectUri: string; state: string; nonce: string; codeChallenge: string; instance?: string }): Promise<StartedSignIn>;
  abstract finish(p: {
    callbackUrl: URL;
    redirectUri: string;
    state: string;
    nonce: string;
    codeVerifier: string;
    data: string | null;
  }): Promise<UserProfile>;
}

/** What tells one "OAuth 2 + a user API" service from another. */
interface OAuth2Preset {
  /** Shown in errors: "GitHub sent no user id". */
  label: string;
  /** The issuer users are keyed by (with the subject). */
  issuer: string;
  /** The authorization server's own identifier (openid-client's `issuer`). */
  authServer: string;
  authorizationUrl: string;
  tokenUrl: string;
  apiUrl: string;
  /** Path of the signed-in user's profile under `apiUrl`. */
  userPath: string;
  /** Extra authorization parameters (scope and the like). */
  params: Record<string, string>;
  /** The user's profile from the user API's answer; null when it names no user. */
  profile(user: Record<string, unknown>): Omit<UserProfile, 'issuer'> | null;
}

const oauth2Presets: Record<'github' | 'wordpress', OAuth2Preset> = {
  github: {
    label: 'GitHub',
    issuer: 'https://github.com',
    authServer: 'https://github.com',
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    apiUrl: 'https://api.github.com',
    userPath: '/user',
    params: { scope: 'read:user', allow_signup: 'true' },
    profile: (user) =>
      typeof user['id'] !== 'number' && typeof user['id'] !== 'string'
        ? null
        : {
            subject: String(user['id']),
            name: str(user['name']) ?? str(user['login']) ?? 'GitHub user',
            picture: httpsOrNull(user['avatar_url']),
            website: httpsOrNull(user['blog']) ?? httpsOrNull(user['html_url']),
            email: null,
          },
  },
  wordpress: {
    label: 'WordPress.com',
    issuer: 'https://wordpress.com',
    authServer: 'https://public-api.wordpress.com',
    authorizationUrl: 'https://public-api.wordpress.com/oauth2/authorize',
    tokenUrl: 'https://public-api.wordpress.com/oauth2/token',
    apiUrl: 'https://public-api.wordpress.com',
    userPath: '/rest/v1.1/me',
    params: { response_type: 'code', scope: 'auth' },
    profile: (me) =>
      me['ID'] === undefined
        ? null
        : {
            subject: String(me['ID']),
            name: str(me['display_name']) ?? str(me['username']) ?? 'WordPress.com user',
            picture: httpsOrNull(me['avatar_URL']),
            website: httpsOrNull(me['profile_URL']),
            email: me['email_verified'] === true ? str(me['email']) : null,
          },
  },
};

/** A fixed OAuth 2 service with a user API (GitHub, WordPress.com), from its preset. */
class PresetOAuth2Provider extends OAuth2Provider {
  readonly #config: client.Configuration;
  readonly #apiUrl: string;
  constructor(
    info: PublicProvider,
    private readonly preset: OAuth2Preset,
    c: Extract<ProviderConfig, { type: 'github' | 'wordpress' }>,
  ) {
    super(info, c.allowInsecure ?? false);
    this.#config = this.configuration(
      {
        issuer: preset.authServer,
        authorizationUrl: c.authorizationUrl ?? preset.authorizationUrl,
        tokenUrl: c.tokenUrl ?? preset.tokenUrl,
      },
      c.clientId,
      c.clientSecret,
    );
    this.#apiUrl = c.apiUrl ?? preset.apiUrl;
  }
  async start(p: { redirectUri: string; state: string; codeChallenge: string }): Promise<StartedSignIn> {
    const url = client.buildAuthorizationUrl(this.#config, {
      redirect_uri: p.redirectUri,
      ...this.preset.params,
      state: p.state,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
    });
    return { url, data: null };
  }
  async finish(p: { callbackUrl: URL; state: string; codeVerifier: string }): Promise<UserProfile> {
    const token = await this.exchange(this.#config, p);
    const profile = this.preset.profile(await userApi(fetch, `${this.#apiUrl}${this.preset.userPath}`, token));
    if (!profile) throw new ProviderError(`${this.preset.label} sent no user id`, 'provider_error');
    return { issuer: this.preset.issuer, ...profile };
  }
}

/** `mastodon.social`, `Example.ORG:8443` → a lowercase host[:port]; anything else is refused. */
export function mastodonInstance(input: string | undefined, allowPort: boolean): string {
  const raw = (input ?? '').trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '').replace(/^@?[^@]*@/, '');
  let url: URL;
  try {
    url = new URL(`https://${raw}`);
  } catch {
    throw new ProviderError('Type your Mastodon instance, like mastodon.social.', 'instance_invalid');
  }
  const plainHost = url.host === raw.toLowerCase() && url.pathname === '/' && !url.search && !url.username;
  if (!raw || !plainHost || (url.port && !allowPort) || !url.hostname.includes('.')) {
    throw new ProviderError('Type your Mastodon instance, like mastodon.social.', 'instance_invalid');
  }
  return url.host;
}

class MastodonProvider extends OAuth2Provider {
  /** Registrations this process already knows, by instance. */
  readonly #known = new Map<string, RegisteredClient>();
  constructor(
    info: PublicProvider,
    private readonly c: Extract<ProviderConfig, { type: 'mastodon' }>,
    private readonly ctx: ProviderContext,
  ) {
    super(info, c.allowInsecure ?? false);
  }
  get #scheme() {
    return this.allowInsecure ? 'http' : 'https';
  }
  #endpoints(instance: string): OAuthEndpoints {
    const base = `${this.#scheme}://${instance}`;
    return { issuer: base, authorizationUrl: `${base}/oauth/authorize`, tokenUrl: `${base}/oauth/token` };
  }
  /** One registration per (instance, redirect URI): from memory, the store, or the instance. */
  async #registration(instance: string, redirectUri: string): Promise<RegisteredClient> {
    const key = `mastodon:${instance}:${redirectUri}`;
    const cached = this.#known.get(key) ?? (await this.ctx.registrations.get(key));
    if (cached) {
      this.#known.set(key, cached);
      return cached;
    }
    this.ctx.allowRegistration();
    const response = await this.ctx.guardedFetch(`${this.#scheme}://${instance}/api/v1/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        client_name: 'blogtalk',
        redirect_uris: redirectUri,
        scopes: this.c.scope ?? 'read:accounts',
      }),
    });
    if (!response.ok) throw new ProviderError(`${instance} refused to register this server (${response.status})`, 'provider_error');
    const app = (await response.json()) as { client_id?: unknown; client_secret?: unknown };
    if (typeof app.client_id !== 'string') throw new ProviderError(`${instance} sent no client id`, 'provider_error');
    const stored = await this.ctx.registrations.put({
      key,
      clientId: app.client_id,
      clientSecret: typeof app.client_secret === 'string' ? app.client_secret : null,
      created: new Date(),
    });
    this.#known.set(key, stored);
    return stored;
  }
  async start(p: { redirectUri: string; state: string; codeChallenge: string; instance?: string }): Promise<StartedSignIn> {
    const instance = mastodonInstance(p.instance, this.allowInsecure);
    const reg = await this.#registration(instance, p.redirectUri);
    const config = this.configuration(this.#endpoints(instance), reg.clientId, reg.clientSecret, this.ctx.guardedFetch);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: p.redirectUri,
      scope: this.c.scope ?? 'read:accounts',
      state: p.state,
      code_challenge: p.codeChallenge,
      code_challenge_method: 'S256',
    });
    return { url, data: JSON.stringify({ instance }) };
  }
  async finish(p: { callbackUrl: URL; redirectUri: string; state: string; codeVerifier: string; data: string | null }): Promise<UserProfile> {
    const { instance } = JSON.parse(p.data ?? '{}') as { instance?: string };
    if (!instance) throw new ProviderError('sign-in lost its Mastodon instance', 'provider_error');
    const reg = await this.#registration(instance, p.redirectUri);
    const config = this.configuration(this.#endpoints(instance), reg.clientId, reg.clientSecret, this.ctx.guardedFetch);
    const token = await this.exchange(config, p);
    const account = await userApi(
      this.ctx.guardedFetch,
      `${this.#scheme}://${instance}/api/v1/accounts/verify_credentials`,
      token,
    );
    if (typeof account['id'] !== 'string') throw new ProviderError(`${instance} sent no account id`, 'provider_error');
    return {
      issuer: `https://${instance}`,
      subject: account['id'],
      name: str(account['display_name']) ?? str(account['username']) ?? 'Mastodon user',
      picture: httpsOrNull(account['avatar']),
      website: httpsOrNull(account['url']),
      email: null,
    };
  }
}

/** Builds the run-time providers from their configuration. */
export function createProviders(configs: ProviderConfig[], ctx: ProviderContext): Map<string, Provider> {
  const providers = new Map<string, Provider>();
  for (const c of configs) {
    const id = c.id ?? c.type;
    const icon = c.icon ?? `${ctx.iconBase}${c.type}.svg`;
    const name = c.name ?? presetNames[c.type];
    const kind = c.type === 'mastodon' ? 'mastodon' : c.type === 'oidc' || c.type === 'google' ? 'oidc' : 'oauth2';
    const info: PublicProvider = { id, name, icon, kind };
    const insecureAllowed = c.allowInsecure ?? false;
    switch (c.type) {
      case 'oidc':
        providers.set(id, new OidcProvider(info, c.issuer, c.clientId, c.clientSecret, c.scope ?? 'openid profile email', insecureAllowed));
        break;
      case 'google':
        providers.set(
          id,
          new OidcProvider(info, c.issuer ?? 'https://accounts.google.com', c.clientId, c.clientSecret, 'openid profile email', insecureAllowed),
        );
        break;
      case 'github':
      case 'wordpress':
        providers.set(id, new PresetOAuth2Provider(info, oauth2Presets[c.type], c));
        break;
      case 'mastodon':
        providers.set(id, new MastodonProvider(info, c, ctx));
        break;
    }
  }
  return providers;
}

/**
 * Demo mode (`npm start`) only: a second demo blog, owned by the development sign-in
 * provider's one account, so a newcomer who signs in with it can reblog the demo post there
 * and see "Dev Reader Says: Reblogged this on The Dev Reader's blog." on the demo thread.
 * Kept apart from `demo.ts` (the seed post); loaded only in demo mode, like the provider itself.
 */
import { randomToken } from './auth/tokens.js';
import { DEV_ACCOUNT } from './auth/dev-provider.js';
import { SELF_ORIGIN } from './http/sites.js';
import type { Site, Store } from './store/store.js';

export const demoReaderSite: Site = {
  id: 'demo-reader',
  name: "The Dev Reader's blog",
  origin: 'https://reader.blogtalk.example',
  allowedOrigins: [SELF_ORIGIN],
};

/** Creates the second blog and makes the development account (of `issuer`) its owner. */
export async function seedDemoReblogBlog(store: Store, issuer: string): Promise<void> {
  await store.putSite(demoReaderSite);
  const user =
    (await store.getUserByIdentity(issuer, DEV_ACCOUNT.sub)) ??
    (await store.upsertUser(
      { issuer, subject: DEV_ACCOUNT.sub, name: DEV_ACCOUNT.name, picture: null, website: null, email: DEV_ACCOUNT.email },
      randomToken(16),
      new Date(),
    ));
  await store.setSiteOwner(demoReaderSite.id, user.id, true);
}

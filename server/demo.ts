/**
 * Demo mode (`npm start`) only: the seed blog post, its one response and its "2 bloggers like
 * this:", as on the page that blogtalk is modelled on. Nothing here runs under `npm run serve`.
 */
import { SELF_ORIGIN } from './http/sites.js';
import { avatarSeed } from './domain/avatar.js';
import type { Site, Store } from './store/store.js';

export const demoSite: Site = {
  id: 'demo',
  name: 'blogtalk demo blog',
  origin: 'https://demo.blogtalk.example',
  // The demo page is served by this server, at whatever host and port it runs on.
  allowedOrigins: [SELF_ORIGIN],
};

export const demoPostUrl = `${demoSite.origin}/2016/09/22/kerry-lavrov-try-to-work-out-next-moves-on-syria-conflict/`;
export const demoPostTitle = 'Kerry, Lavrov Try To Work Out Next Moves on Syria Conflict';

/** The demo post's likers: made-up bloggers, liking once each (their key makes it idempotent). */
const demoLikers = [
  { name: 'daveyone1', website: 'https://worldpeaceforum.example/', created: '2016-09-23T06:40:00Z' },
  { name: 'Mira Okafor', website: null, created: '2016-09-23T09:12:00Z' },
];

/** Puts the seed page's reblog response and likes on the demo post, once (ids and keys make it idempotent). */
export async function seedDemo(store: Store, secret: string): Promise<void> {
  await store.putSite(demoSite);
  const result = await store.createComment(
    {
      siteId: demoSite.id,
      postUrl: demoPostUrl,
      postTitle: demoPostTitle,
      id: 'seed-daveyone1-reblog',
      requestHash: 'seed',
      parentId: null,
      kind: 'reblog',
      status: 'published',
      authorName: 'daveyone1',
      authorEmail: null,
      authorWebsite: 'https://worldpeaceforum.example/',
      avatar: avatarSeed(secret, demoSite.id, null, 'daveyone1'),
      body: '', // the reblog line is drawn from `reblog`; a reblog's body is only its commentary
      reblogBlogName: 'World Peace Forum',
      reblogUrl: 'https://worldpeaceforum.example/2016/09/23/kerry-lavrov-try-to-work-out-next-moves-on-syria-conflict/',
      created: new Date('2016-09-23T06:41:00Z'),
    },
    0,
  );
  if (!result.ok) throw new Error(`demo seed failed: ${result.reason}`);
  for (const { name, website, created } of demoLikers) {
    const like = {
      siteId: demoSite.id,
      postUrl: demoPostUrl,
      commentId: null,
      likerKey: `demo:${name}`,
      name,
      avatar: avatarSeed(secret, demoSite.id, null, name),
      picture: null,
      website,
      created: new Date(created),
    };
    await store.setLike(like, true, 0);
  }
}

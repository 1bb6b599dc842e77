/**
 * A randomised, model-based fault test of the outbox (fast-check): comments are submitted while
 * the network goes down and comes back, replies get lost, the server answers 500/503/429, the
 * page is re-created, a second page of the site (another tab: its own outbox and thread on the
 * same database, channel and locks, see outbox-tab.ts) opens and closes, and the clock jumps. However the commands interleave, the server ends with
 * every comment exactly once, nothing is left in the outbox, and the screen agrees with the
 * server. Real IndexedDB, the real server behind the fault proxy, the test's own clock.
 * Every run logs its seed; on failure fast-check prints the seed, the path and the shrunk command
 * list. Replay with `BLOGTALK_SEED=<seed> npm test` (or `node test/run-all.mjs browser`).
 */
import { expect, fixture, html } from '@open-wc/testing';
import { executeServerCommand } from '@web/test-runner-commands';
import fc from 'fast-check';
import { clear, createStore, entries } from 'idb-keyval';
import { newClientId } from '../../src/data/client-id.js';
import { HttpBackend } from '../../src/data/http-backend.js';
import { createOutbox, idbStore, type Outbox } from '../../src/data/outbox.js';
import '../../src/index.js';
import type { CommentThreadElement } from '../../src/index.js';
import { seed as fixedSeed } from '/__blogtalk__/server.js';
import { bodies, Clock, newPost, proxy, server, until } from './helpers.js';
import { openTab, type Tab } from './outbox-tab.js';

type Fault = { mode: 'none' | 'status' | 'drop-response'; status?: number; retryAfter?: number; count?: number };
const command = (payload: { fault?: Fault; down?: boolean; up?: boolean } = {}) =>
  executeServerCommand<unknown, typeof payload>('blogtalk-fault', payload);

const store = createStore('blogtalk', 'outbox');

/** One page visit (a tab of its own: its locks, channel, database connection and fetch): a thread and its outbox. */
interface Visit {
  tab: Tab;
  outbox: Outbox;
  element: CommentThreadElement;
}

class World {
  clock = new Clock();
  post = newPost('model');
  /** The page the writer uses; `second` is another tab of the same site, open or not. */
  visit!: Visit;
  second: Visit | null = null;
  online = true;
  submitted: string[] = [];

  async page(): Promise<Visit> {
    const tab = openTab();
    const backend = new HttpBackend(proxy, { timeout: 3_000, fetch: tab.fetch });
    const outbox = createOutbox({
      backend,
      server: proxy,
      store: idbStore(tab.store),
      now: this.clock.now,
      schedule: this.clock.schedule,
      random: () => 0.5,
      locks: tab.locks,
      channel: tab.channel,
      window: tab.win,
    });
    const element = await fixture<CommentThreadElement>(
      html`<comment-thread post=${this.post} server=${server} page-size="1000" .backend=${backend} .outbox=${outbox}></comment-thread>`,
    );
    await outbox.ready;
    void outbox.flush(); // as outboxFor does on a page's load
    return { tab, outbox, element };
  }

  async open(): Promise<void> {
    this.visit = await this.page();
  }

  /** Closes a page as a tab closes: its outbox stops, its locks, channel and requests go with it. */
  static shut(visit: Visit): void {
    visit.outbox.close();
    visit.element.remove();
    visit.tab.close();
  }

  close(): void {
    World.shut(this.visit);
    if (this.second) World.shut(this.second);
    this.second = null;
  }

  /** The browser says it is online, in every open page. */
  wake(): void {
    for (const visit of this.visits()) visit.tab.win.dispatchEvent(new Event('online'));
  }

  visits(): Visit[] {
    return this.second ? [this.visit, this.second] : [this.visit];
  }

  /** Lets what the last command started finish. */
  async settle(): Promise<void> {
    await Promise.all(this.visits().map((visit) => visit.outbox.flush()));
  }
}

type Model = { submitted: number; second: boolean };
type Cmd = fc.AsyncCommand<Model, World>;

const cmd = (name: string, run: (w: World) => Promise<void>, check: (w: Model) => boolean = () => true): Cmd => ({
  check,
  async run(model, world) {
    await run(world);
    model.submitted = world.submitted.length;
    model.second = world.second !== null;
    await world.settle();
  },
  toString: () => name,
});

const submit = (count: number) =>
  cmd(`submit(${count})`, async (w) => {
    for (let i = 0; i < count; i++) {
      const body = `Model comment ${w.submitted.length + 1}`;
      w.submitted.push(body);
      const id = newClientId();
      await w.visit.outbox.add(id, { post: w.post, author: { name: 'Model', email: 'model@example.org' }, body }, 0);
      void w.visit.outbox.flush(true);
    }
  });
const offline = cmd('offline', async (w) => {
  w.online = false;
  await command({ down: true });
});
const online = cmd('online', async (w) => {
  w.online = true;
  await command({ up: true });
  w.wake();
});
const answer = (status: number, retryAfter?: number) =>
  cmd(`answer(${status}${retryAfter ? `, Retry-After ${retryAfter}` : ''})`, async () => {
    await command({ fault: { mode: 'status', status, ...(retryAfter ? { retryAfter } : {}), count: 1 } });
  });
const dropNext = cmd('drop next response', async () => {
  await command({ fault: { mode: 'drop-response', count: 1 } });
});
const recreate = cmd('re-create the element', async (w) => {
  World.shut(w.visit);
  await w.open();
});
const openSecond = cmd(
  'open a second page',
  async (w) => void (w.second = await w.page()),
  (m) => !m.second,
);
const closeSecond = cmd(
  'close the second page',
  async (w) => {
    World.shut(w.second!);
    w.second = null;
  },
  (m) => m.second,
);
const advance = (ms: number) =>
  cmd(`advance ${ms} ms`, async (w) => {
    w.clock.advance(ms);
  });

const commands = fc.commands(
  [
    fc.integer({ min: 1, max: 8 }).map(submit),
    fc.constant(offline),
    fc.constant(online),
    fc.constantFrom(answer(500), answer(503, 3), answer(429, 1)),
    fc.constant(dropNext),
    fc.constant(recreate),
    fc.constant(openSecond),
    fc.constant(closeSecond),
    fc.integer({ min: 100, max: 400_000 }).map(advance),
  ],
  { maxCommands: 80, size: 'max' },
);

/**
 * Runs `cmds`, then at least 200 comments in all, lets the network come back for good and checks
 * the end: each comment on the server once, nothing pending, an empty outbox, a screen that
 * agrees. Resolves with the number of comments submitted.
 */
async function scenario(cmds: Iterable<Cmd>): Promise<number> {
  await clear(store); // each run (and each shrink) starts from an empty outbox
  const world = new World();
  await world.open();
  try {
    await fc.asyncModelRun(() => ({ model: { submitted: 0, second: false }, real: world }), cmds);
    // At least 200 comments per run, the rest under whatever faults are still set.
    if (world.submitted.length < 200) await submit(200 - world.submitted.length).run({ submitted: 0, second: false }, world);

    // The network comes back for good; the clock runs until nothing is waiting.
    await command({ fault: { mode: 'none' }, up: true });
    world.wake();
    for (let i = 0; i < 50 && world.visit.outbox.records().some((r) => r.state !== 'sent'); i++) {
      await world.settle();
      world.clock.advance(600_000);
    }
    await world.settle();
    expect(world.visit.outbox.records().filter((r) => r.state !== 'sent')).to.deep.equal([]);

    const page = await new HttpBackend(server).list(world.post, { pageSize: 1000 });
    const onServer = page.comments.map((c) => c.body).sort();
    expect(onServer).to.deep.equal([...world.submitted].sort());

    // A fresh visit shows what the server has, once each; the outbox is empty.
    world.close();
    await world.open();
    await until(() => bodies(world.visit.element).length === onServer.length, 'the screen shows them all', 15_000);
    expect(bodies(world.visit.element).sort()).to.deep.equal(onServer);
    await until(async () => (await entries(store)).length === 0, 'the outbox is empty');
  } finally {
    world.close();
    await command({ fault: { mode: 'none' }, up: true });
  }
  return world.submitted.length;
}

describe('the outbox under random faults (fast-check)', function () {
  this.timeout(400_000);

  afterEach(async () => {
    await command({ fault: { mode: 'none' }, up: true });
    await clear(store);
  });

  it('ends with every comment on the server exactly once, an empty outbox, and a screen that agrees', async () => {
    const seed = Number(fixedSeed) || Date.now() % 2 ** 31;
    console.log(`outbox model test: seed ${seed}`);
    let total = 0;
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        total += await scenario(cmds);
      }),
      { seed, numRuns: 2, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true },
    );
    expect(total).to.be.at.least(400);
  });

});

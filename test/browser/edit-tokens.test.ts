/**
 * The guest edit-token store on the browser's real IndexedDB: one entry per comment, expired
 * ones pruned when read. (The memory fallback is in edit-tokens-memory.test.ts: a page of its own.)
 */
import { expect } from '@open-wc/testing';
import { clear, createStore, keys, set } from 'idb-keyval';
import { dropEditToken, keepEditToken, loadEditTokens, newEditToken } from '../../src/data/edit-tokens.js';

const db = createStore('blogtalk-edit', 'tokens');

describe('edit tokens in IndexedDB', () => {
  beforeEach(() => clear(db));

  it('makes different base64url tokens the server accepts', () => {
    const a = newEditToken()!;
    expect(a).to.match(/^[A-Za-z0-9_-]{16,128}$/);
    expect(newEditToken()).to.not.equal(a);
  });

  it('keeps a token until its window closes, and prunes expired ones from the database when read', async () => {
    await keepEditToken('live', { token: 't'.repeat(32), until: 2_000 });
    await set('old', { token: 'o'.repeat(32), until: 1_000 }, db);
    await set('junk', 'not an entry', db);
    const found = await loadEditTokens(1_500);
    expect([...found.keys()]).to.deep.equal(['live']);
    expect(found.get('live')!.token).to.equal('t'.repeat(32));
    expect((await keys(db)).sort()).to.deep.equal(['live']);
    expect([...(await loadEditTokens(2_000)).keys()]).to.deep.equal([]);
  });

  it('forgets the token of a removed comment', async () => {
    await keepEditToken('gone', { token: 'g'.repeat(32), until: Date.now() + 60_000 });
    await dropEditToken('gone');
    expect(await keys(db)).to.deep.equal([]);
  });
});

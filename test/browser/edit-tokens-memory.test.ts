/** Where IndexedDB cannot be used (blocked, private modes), edit tokens live in memory for the page. */
import { expect } from '@open-wc/testing';
import { keepEditToken, loadEditTokens } from '../../src/data/edit-tokens.js';

describe('edit tokens without IndexedDB', () => {
  it('keeps them in memory, still expiring with the window', async () => {
    Object.defineProperty(window, 'indexedDB', {
      configurable: true,
      get() {
        throw new DOMException('blocked', 'SecurityError');
      },
    });
    await keepEditToken('a', { token: 'a'.repeat(32), until: 2_000 });
    await keepEditToken('b', { token: 'b'.repeat(32), until: 1_000 });
    const found = await loadEditTokens(1_500);
    expect([...found.keys()]).to.deep.equal(['a']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Lru } from '../../server/http/lru.js';

describe('the weight-bounded LRU map', () => {
  it('evicts the least recently used entries once the total weight passes the bound', () => {
    const lru = new Lru<string, string>(10, (value) => value.length);
    lru.set('a', 'aaaa');
    lru.set('b', 'bbbb');
    assert.equal(lru.get('a'), 'aaaa'); // a is now the most recent
    lru.set('c', 'cccc'); // 12 > 10: b goes
    assert.equal(lru.get('b'), undefined);
    assert.equal(lru.get('a'), 'aaaa');
    assert.equal(lru.get('c'), 'cccc');
  });

  it('does not keep an entry heavier than the whole bound, and replacing a key frees its old weight', () => {
    const lru = new Lru<string, string>(10, (value) => value.length);
    lru.set('big', 'x'.repeat(11));
    assert.equal(lru.get('big'), undefined);
    lru.set('k', 'xxxxxxxx');
    lru.set('k', 'yy');
    lru.set('m', 'zzzzzzzz');
    assert.equal(lru.get('k'), 'yy');
    assert.equal(lru.get('m'), 'zzzzzzzz');
  });
});

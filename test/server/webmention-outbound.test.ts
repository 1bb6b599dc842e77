/**
 * The test-only switch that lets a real server process fetch loopback addresses
 * (`BLOGTALK_OUTBOUND_ALLOW_LOOPBACK=1`): off unless set, and refused outside demo mode or
 * `NODE_ENV=test`, so that a production server never has it on by accident.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loopbackOutboundFromEnv } from '../../server/http/guarded-fetch.js';

describe('BLOGTALK_OUTBOUND_ALLOW_LOOPBACK', () => {
  it('is off when unset, empty or 0', () => {
    assert.equal(loopbackOutboundFromEnv({}, true), null);
    assert.equal(loopbackOutboundFromEnv({ BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: '' }, false), null);
    assert.equal(loopbackOutboundFromEnv({ BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: '0', NODE_ENV: 'test' }, false), null);
  });

  it('allows loopback and http in demo mode or under NODE_ENV=test', () => {
    const on = { allowLoopback: true, allowHttp: true };
    assert.deepEqual(loopbackOutboundFromEnv({ BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: '1' }, true), on);
    assert.deepEqual(loopbackOutboundFromEnv({ BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: '1', NODE_ENV: 'test' }, false), on);
  });

  it('is refused in production, and any value but 1 is refused', () => {
    assert.throws(() => loopbackOutboundFromEnv({ BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: '1' }, false), /for tests only/);
    assert.throws(() => loopbackOutboundFromEnv({ BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: '1', NODE_ENV: 'production' }, false), /for tests only/);
    assert.throws(() => loopbackOutboundFromEnv({ BLOGTALK_OUTBOUND_ALLOW_LOOPBACK: 'yes' }, true), /must be 1/);
  });
});

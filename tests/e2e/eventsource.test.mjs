// SPDX-License-Identifier: MIT
// The `eventsource` npm package (v4, on Node's fetch) against sse_e2e_server:
// named events with ids, and resume with Last-Event-ID across a restart.

import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import {
  assertNamedEvents, assertResumedFrom, ids, recordSource,
} from './checks.mjs';
import { E2EServer, range, sleep, waitFor } from './helpers.mjs';

const T = { timeout: 30_000 }; // each test; the file as a whole has its own bound

describe('eventsource package', { timeout: 60_000 }, () => {
  let server;
  let es;

  afterEach(async () => {
    es?.close();
    es = undefined;
    await server?.close();
    server = undefined;
  });

  // Open a source that records every event of @p types, errors and opens
  // (closed after the test).
  function record(url, types, init) {
    const rec = recordSource(url, types, init);
    es = rec.es;
    return rec;
  }

  async function openedOn(s, rec, n = 1) {
    await waitFor(() => rec.opens >= n, { what: `client open #${n}`, timeout: 10_000 });
    await waitFor(async () => (await s.log()).opens >= n, { what: `server on_open #${n}` });
  }

  it('receives named events with ids', T, async () => {
    server = await E2EServer.start({ retryMs: 500 });
    const rec = record(server.origin + '/events', ['message', 'custom']);
    await openedOn(server, rec);
    const m = await server.publish(4);
    const c = await server.publish(2, 'custom');
    await waitFor(() => rec.events.length >= 6, { what: '6 events' });
    await sleep(150);
    assertNamedEvents(rec.events, m, c, 4, 2);
    assert.equal(rec.events[0].data, 'n1');
    assert.equal(es.readyState, EventSource.OPEN);
  });

  it('sends a bearer token in Authorization (custom fetch); a wrong one is refused for good', T, async () => {
    server = await E2EServer.start({ retryMs: 300 });
    const withToken = (token) => ({
      fetch: (input, init) => fetch(input, {
        ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` },
      }),
    });
    const rec = record(server.origin + '/secure', ['message'], withToken('e2e+token/0123456789='));
    await waitFor(() => rec.opens >= 1, { what: 'open with the token', timeout: 10_000 });
    await waitFor(async () => Number((await server.cmd('stats')).streams) >= 1,
      { what: 'the stream registered' });
    const m = await server.publish(3);
    await waitFor(() => rec.events.length >= 3, { what: '3 events' });
    assert.deepEqual(ids(rec.events), range(m.first, m.last));
    es.close();

    const bad = record(server.origin + '/secure', ['message'], withToken('e2e+token/0123456789'));
    await waitFor(() => es.readyState === EventSource.CLOSED, { what: 'CLOSED after 401' });
    await sleep(1000);
    assert.equal(bad.opens, 0);
    assert.match(bad.errors.join(' '), /401/);
    assert.equal(Number((await server.cmd('stats')).auth_failures), 1, 'no retry after the 401');
  });

  it('reconnects with Last-Event-ID after a restart and gets every missed id once', T, async () => {
    server = await E2EServer.start({ retryMs: 300 });
    const rec = record(server.origin + '/events', ['message']);
    await openedOn(server, rec);
    const first = await server.publish(3);
    await waitFor(() => rec.events.length >= 3, { what: '3 events' });
    const lastSeen = Number(rec.events.at(-1).id);

    await server.cmd('stop');
    await waitFor(() => rec.errors.length >= 1, { what: 'error on stop', timeout: 5000 });
    const missed = await server.publish(7);
    const logStopped = await server.log();
    await sleep(400); // let the client fail to connect at least once
    await server.cmd('start');

    await openedOn(server, rec, 2);
    await waitFor(() => rec.events.length >= 10, { what: 'the 7 missed events' });
    const live = await server.publish(2);
    await waitFor(() => rec.events.length >= 12, { what: '2 live events' });
    await sleep(150);

    assert.equal(missed.first, lastSeen + 1);
    assert.deepEqual(ids(rec.events), range(first.first, live.last), 'every id once, in order');
    await assertResumedFrom(server, logStopped, lastSeen, 'eventsource');
    assert.equal(rec.opens, 2);
  });
});

// SPDX-License-Identifier: MIT
// The checks every e2e client gets the same way (eventsource package, Chromium; http, https).
// An eventsource-package source that records what it sees, the named events
// a test published, and a resume that carried Last-Event-ID.

import assert from 'node:assert/strict';
import { EventSource } from 'eventsource';
import { range } from './helpers.mjs';

/** The ids of recorded events, as numbers. */
export const ids = (events) => events.map((e) => Number(e.id));

/**
 * An EventSource of the eventsource package on @p url (@p init: its options)
 * recording every event of @p types, each open and each error's message:
 * { es, events: [{ type, id, data }], opens, errors }.
 */
export function recordSource(url, types, init) {
  const rec = { es: new EventSource(url, init), events: [], opens: 0, errors: [] };
  for (const type of types) {
    rec.es.addEventListener(type, (e) => {
      rec.events.push({ type: e.type, id: e.lastEventId, data: e.data });
    });
  }
  rec.es.addEventListener('open', () => { rec.opens++; });
  rec.es.addEventListener('error', (e) => { rec.errors.push(e.message ?? String(e)); });
  return rec;
}

/**
 * @p events are exactly the @p nm "message" events of @p m, then the @p nc
 * "custom" ones of @p c (as E2EServer.publish returned them): consecutive
 * ids, in order, each with the server's data "nN".
 */
export function assertNamedEvents(events, m, c, nm, nc) {
  assert.deepEqual(ids(events), range(m.first, c.last));
  assert.deepEqual(events.map((e) => e.type),
    [...Array(nm).fill('message'), ...Array(nc).fill('custom')]);
  for (const e of events) assert.match(e.data, /^n\d+$/);
}

/**
 * The server's log shows a first request without Last-Event-ID and, after
 * @p logStopped (its log while stopped), at least one request carrying
 * @p lastSeen, sent by @p who.
 */
export async function assertResumedFrom(server, logStopped, lastSeen, who) {
  const log = await server.log();
  assert.equal(log.leids[0], '-', 'first request has no Last-Event-ID');
  const resumed = log.leids.slice(logStopped.leids.length);
  assert.ok(resumed.length >= 1, `a request after the restart (log: ${JSON.stringify(log)})`);
  for (const v of resumed) assert.equal(v, String(lastSeen), `Last-Event-ID sent by ${who}`);
}

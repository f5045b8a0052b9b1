// SPDX-License-Identifier: MIT
// Chromium's side of the e2e tests: the page's EventSource recorder and the checks run through it.
// Used by browser.test.mjs (http) and tls.test.mjs (https) alike.

import assert from 'node:assert/strict';
import { assertNamedEvents, assertResumedFrom, ids } from './checks.mjs';
import { range, sleep, waitFor } from './helpers.mjs';

/**
 * Installed into the page (page.evaluate(installRecorder)): opens
 * EventSources and records what they see. window.openStream(name, url,
 * types) opens one; window.streams[name] holds its events, the times of its
 * opens, its errors (time and readyState) and every readyState it went
 * through; window.sources[name] is the EventSource.
 */
export function installRecorder() {
  window.streams = {};
  window.sources = {};
  window.openStream = (name, url, types) => {
    const es = new EventSource(url);
    const r = { events: [], opens: [], errors: [], states: [es.readyState] };
    window.streams[name] = r;
    window.sources[name] = es;
    for (const type of types) {
      es.addEventListener(type, (e) => {
        r.events.push({ type: e.type, id: e.lastEventId, data: e.data, t: Date.now() });
      });
    }
    es.addEventListener('open', () => {
      r.opens.push(Date.now());
      r.states.push(es.readyState);
    });
    es.addEventListener('error', () => {
      r.errors.push({ t: Date.now(), readyState: es.readyState });
      r.states.push(es.readyState);
    });
  };
}

/**
 * The recorder's streams in the page @p getPage() returns, served by the
 * E2EServer @p getServer() returns (both read at each call: a test's own):
 *   stream(name)      what stream @p name recorded
 *   readyState(name)  its EventSource's readyState now
 *   waitPage(fn, arg, timeout)  page.waitForFunction, polling every 20 ms
 *   open(name, url, types, opensBefore)  opens stream @p name and waits
 *                     until both the page and the server saw it open
 */
export function pageStreams(getPage, getServer) {
  const stream = (name) => getPage().evaluate((n) => window.streams[n], name);
  const readyState = (name) => getPage().evaluate((n) => window.sources[n].readyState, name);
  const waitPage = (fn, arg, timeout = 10_000) =>
    getPage().waitForFunction(fn, arg, { timeout, polling: 20 });
  async function open(name, url, types, opensBefore = 0) {
    await getPage().evaluate(([n, u, t]) => window.openStream(n, u, t), [name, url, types]);
    await waitPage((n) => window.streams[n].opens.length >= 1, name);
    await waitFor(async () => (await getServer().log()).opens > opensBefore,
      { what: 'server on_open', timeout: 5000 });
  }
  return { stream, readyState, waitPage, open };
}

/**
 * Stream "s" of @p streams (pageStreams'), opened on @p server's /events for
 * message and custom: 5 message then 3 custom events arrive, nothing more,
 * over one open without an error. Resolves with the two publish results.
 */
export async function checkNamed({ stream, waitPage, open }, server) {
  await open('s', '/events', ['message', 'custom']);
  const m = await server.publish(5);
  const c = await server.publish(3, 'custom');
  await waitPage(() => window.streams.s.events.length >= 8);
  await sleep(200); // nothing more may follow
  const r = await stream('s');
  assertNamedEvents(r.events, m, c, 5, 3);
  assert.equal(r.opens.length, 1);
  assert.equal(r.errors.length, 0);
  return { m, c };
}

/**
 * Stream "s" of @p streams (pageStreams'), open on @p server's /events:
 * 3 events, the server stopped (the page sees an error), 7 events published
 * meanwhile, the server started again. The page comes back by itself with
 * Last-Event-ID (sent by @p who) and gets exactly the 7 missed events, then
 * 2 live ones: every id once, in order, over 2 opens.
 */
export async function checkResume({ stream, waitPage }, server, who) {
  const before1 = await server.publish(3);
  await waitPage(() => window.streams.s.events.length >= 3);
  const lastSeen = Number((await stream('s')).events.at(-1).id);
  assert.equal(lastSeen, before1.last);

  await server.cmd('stop');
  await waitPage(() => window.streams.s.errors.length >= 1, undefined, 5000);
  const missed = await server.publish(7);
  assert.equal(missed.first, lastSeen + 1);
  const logStopped = await server.log();
  await server.cmd('start');

  await waitPage(() => window.streams.s.opens.length >= 2, undefined, 10_000);
  await waitPage(() => window.streams.s.events.length >= 10, undefined, 5000);
  const live = await server.publish(2);
  await waitPage(() => window.streams.s.events.length >= 12, undefined, 5000);
  await sleep(200); // nothing more may follow

  const r = await stream('s');
  assert.deepEqual(ids(r.events), range(before1.first, live.last), 'every id once, in order');
  assert.equal(r.opens.length, 2);
  await assertResumedFrom(server, logStopped, lastSeen, who);
}

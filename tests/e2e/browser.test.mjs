// SPDX-License-Identifier: MIT
// Chromium's own EventSource against sse_e2e_server: named events and ids,
// resume with Last-Event-ID across a server restart, the retry field, 204 as
// "stop for good", and several channels on one stream.

import { describe, it, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ids } from './checks.mjs';
import { E2EServer, launchChromium, range, sleep, waitFor } from './helpers.mjs';
import { checkNamed, checkResume, installRecorder, pageStreams } from './page.mjs';

const T = { timeout: 30_000 }; // each test; the file as a whole has its own bound

describe('Chromium EventSource', { timeout: 90_000 }, () => {
  let browser;
  let page;
  let server;

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  beforeEach(async () => {
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
  });
  afterEach(async () => {
    await page?.close().catch(() => {});
    page = undefined;
    await server?.close();
    server = undefined;
  });

  // Start a server, load its page, install the recorder.
  async function setup(opts) {
    server = await E2EServer.start(opts);
    const resp = await page.goto(server.origin + '/', { timeout: 10_000 });
    assert.equal(resp.status(), 200);
    assert.equal(await page.title(), 'e2e');
    await page.evaluate(installRecorder);
  }

  const streams = pageStreams(() => page, () => server);
  const { stream, readyState, waitPage, open } = streams;

  it('delivers named events with ids, in order', T, async () => {
    await setup({ retryMs: 1000 });
    const { m, c } = await checkNamed(streams, server);
    assert.equal(c.first, m.last + 1);
    assert.equal(await readyState('s'), 1);
  });

  it('resumes after a server restart with Last-Event-ID: no gap, no duplicate', T, async () => {
    await setup({ retryMs: 400 });
    await open('s', '/events', ['message']);
    await checkResume(streams, server, 'Chromium');
  });

  it('reconnects after the retry delay the server sent', T, async (t) => {
    await setup({ retryMs: 300 });
    await open('s', '/events', ['message']);

    // retry: 300
    const log0 = await server.log();
    const t0 = Date.now();
    assert.equal((await server.cmd('kick')).n, '1');
    await waitPage(() => window.streams.s.opens.length >= 2, undefined, 5000);
    const fast = (await stream('s')).opens[1] - t0;
    await waitFor(async () => (await server.log()).opens > log0.opens, { what: 'server reopen' });

    // Restart with retry: 2500; the page comes back on its 300 ms delay and
    // learns the new one.
    await server.cmd('stop');
    await server.cmd('start 2500');
    await waitPage(() => window.streams.s.opens.length >= 3, undefined, 10_000);
    await waitFor(async () => (await server.cmd('stats')).streams === '1',
      { what: 'the stream open on the server' });
    const t1 = Date.now();
    assert.equal((await server.cmd('kick')).n, '1');
    await waitPage(() => window.streams.s.opens.length >= 4, undefined, 10_000);
    const slow = (await stream('s')).opens[3] - t1;

    const msg = `kick -> open: ${fast} ms with retry 300, ${slow} ms with retry 2500`;
    assert.ok(fast >= 200 && fast <= 1800, msg);
    assert.ok(slow >= 2200, msg);
    assert.ok(slow - fast >= 1500, msg);
    t.diagnostic(msg);
  });

  it('stops reconnecting for good after 204', T, async () => {
    await setup({ retryMs: 300 });
    await open('s', '/events', ['message']);
    await server.cmd('refuse 204');
    const log0 = await server.log();
    assert.equal((await server.cmd('kick')).n, '1');

    await waitPage(() => window.sources.s.readyState === 2, undefined, 5000);
    const refused = await waitFor(async () => {
      const l = await server.log();
      return l.requests > log0.requests && l;
    }, { what: 'the refused request', timeout: 5000 });
    await sleep(4000);
    const log1 = await server.log();
    assert.equal(log1.requests, log0.requests + 1,
      `one refused request, then none for 4 s (log: ${JSON.stringify(log1)})`);
    assert.equal(refused.requests, log0.requests + 1);
    const r = await stream('s');
    assert.equal(await readyState('s'), 2);
    assert.equal(r.errors.at(-1).readyState, 2, 'last error left the source CLOSED');
    assert.equal(r.opens.length, 1);
  });

  it('streams /secure with ?token=, and a 401 without it is final', T, async () => {
    await setup({ retryMs: 300 });
    const token = 'e2e+token/0123456789=';
    await page.evaluate(([u]) => window.openStream('ok', u, ['message']),
      ['/secure?token=' + encodeURIComponent(token)]);
    await waitPage(() => window.streams.ok.opens.length >= 1);
    await waitFor(async () => Number((await server.cmd('stats')).streams) >= 1,
      { what: 'the token stream registered', timeout: 5000 });
    const p = await server.publish(2);
    await waitPage(() => window.streams.ok.events.length >= 2);
    assert.deepEqual((await stream('ok')).events.map((e) => Number(e.id)), [p.first, p.last]);

    // No token, then a wrong one: 401, the source is CLOSED and never retries.
    await page.evaluate(() => window.openStream('none', '/secure', ['message']));
    await page.evaluate(() => window.openStream('bad', '/secure?token=guess', ['message']));
    await waitPage(() => window.sources.none.readyState === 2 && window.sources.bad.readyState === 2,
      undefined, 5000);
    const f0 = Number((await server.cmd('stats')).auth_failures);
    assert.equal(f0, 2);
    await sleep(2000); // retry is 300 ms: a reconnect would have come
    assert.equal(Number((await server.cmd('stats')).auth_failures), 2);
    for (const n of ['none', 'bad']) {
      const r = await stream(n);
      assert.equal(r.opens.length, 0);
      assert.equal(r.events.length, 0);
    }
    assert.equal(await readyState('ok'), 1, 'the authorised stream stays open');
  });

  it('carries several channels on one stream (?ch=a,b)', T, async () => {
    await setup({ retryMs: 1000 });
    const types = ['message', 'a', 'b'];
    await open('both', '/events?ch=a,b', types);
    await open('plain', '/events', types, 1);

    const a1 = await server.publishCh('a', 2);
    const b1 = await server.publishCh('b', 2);
    const a2 = await server.publishCh('a', 1);
    const barrier = await server.publish(1);
    await waitPage(() => window.streams.both.events.length >= 6);
    await waitPage(() => window.streams.plain.events.length >= 1);
    await sleep(200);

    const both = await stream('both');
    assert.deepEqual(ids(both.events), range(a1.first, barrier.last));
    assert.deepEqual(both.events.map((e) => e.type), ['a', 'a', 'b', 'b', 'a', 'message']);
    assert.equal(b1.first, a1.last + 1);
    assert.equal(a2.first, b1.last + 1);

    // Events are delivered in id order, so once the plain stream has the
    // barrier it can never get the channel events published before it.
    const plain = await stream('plain');
    assert.deepEqual(plain.events.map((e) => [e.type, Number(e.id)]),
      [['message', barrier.last]]);
  });
});

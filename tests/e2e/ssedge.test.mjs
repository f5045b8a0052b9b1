// SPDX-License-Identifier: MIT
// The ssedge command (tools/ssedge) with real clients: the `eventsource`
// package reads a shell counter through a TCP proxy that drops the
// connection half-way, so the package resumes with Last-Event-ID: every
// line must arrive once, in order, with consecutive ids. Then Chromium
// opens the command's dashboard through such a proxy: a chart for a
// numeric series and for each numeric field of JSON events, checked by the
// canvas pixels, the events table, and a resume after the cut with no id
// twice (a screenshot goes to $SSE_SSEDGE_SCREENSHOT, default
// build/ssedge-dashboard.png).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventSource } from 'eventsource';
import { mkdir } from 'node:fs/promises';
import { Program, bin, freePort, launchChromium, repoRoot, waitFor } from './helpers.mjs';

const screenshotPath = path.resolve(process.env.SSE_SSEDGE_SCREENSHOT ||
                                    path.join(repoRoot, 'build/ssedge-dashboard.png'));

// In the page: for the chart of @p key, how many pixel columns hold an
// opaque pixel of its series colour (a plotted line spans most of them).
function lineColumns(key) {
  const fig = [...document.querySelectorAll('figure.series')]
    .find((f) => f.getAttribute('data-series') === key);
  if (!fig) return { columns: 0, width: 0 };
  const c = fig.querySelector('canvas');
  const hex = c.getAttribute('data-color');
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const cols = new Set();
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] > 200 && Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) + Math.abs(px[i + 2] - b) < 60)
      cols.add((i / 4) % c.width);
  }
  return { columns: cols.size, width: c.width };
}

const T = { timeout: 40_000 }; // each test; the file as a whole has its own bound

/** Start build/bin/ssedge on 127.0.0.1 with @p args; resolves once it serves. */
async function startSsedge(args) {
  const port = await freePort();
  const p = new Program(bin('ssedge'), ['--bind', '127.0.0.1', '--port', String(port), ...args]);
  p.origin = `http://127.0.0.1:${port}`;
  await waitFor(() => {
    if (p.proc.exitCode !== null) throw new Error(`ssedge exited: ${p.stderr}`);
    return /serving http:\/\/127\.0\.0\.1:\d+\//.test(p.stderr);
  }, { what: 'ssedge serving', timeout: 10_000 });
  return p;
}

/** A TCP proxy to @p port that can cut every connection; records the
 *  Last-Event-ID header of each request through it. */
async function proxyTo(port) {
  const socks = new Set();
  const leids = [];
  const server = createServer((down) => {
    const up = connect(port, '127.0.0.1');
    socks.add(down);
    socks.add(up);
    let head = '';
    down.on('data', (d) => {
      if (head !== null) {
        head += d.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end >= 0) {
          const m = /\r\nLast-Event-ID: *([^\r]*)/i.exec(head.slice(0, end));
          leids.push(m ? m[1] : '-');
          head = null;
        }
      }
    });
    down.pipe(up);
    up.pipe(down);
    const done = () => { down.destroy(); up.destroy(); socks.delete(down); socks.delete(up); };
    down.on('error', done);
    up.on('error', done);
    down.on('close', done);
    up.on('close', done);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    leids,
    cut() { for (const s of socks) s.destroy(); },
    close() { this.cut(); return new Promise((resolve) => server.close(resolve)); },
  };
}

describe('ssedge command', { timeout: 90_000 }, () => {
  let dir;

  before(async () => {
    assert.ok(existsSync(bin('ssedge')), `${bin('ssedge')} is built (make ${bin('ssedge')})`);
    dir = await mkdtemp(path.join(tmpdir(), 'ssedge-e2e-'));
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('eventsource: every line of a shell counter once, in order, with ids, resumed by Last-Event-ID', T, async () => {
    const N = 120;
    const go = path.join(dir, 'go');
    const counter = path.join(dir, 'counter.sh');
    await writeFile(counter, '#!/bin/sh\n' +
      'while [ ! -e "$1" ]; do sleep 0.02; done\n' +
      `i=1; while [ $i -le ${N} ]; do echo "count $i"; i=$((i+1)); sleep 0.02; done\n` +
      'sleep 300\n', { mode: 0o755 });
    const cmd = await startSsedge(['--', counter, go]);
    const proxy = await proxyTo(Number(new URL(cmd.origin).port));
    const got = [];
    let opens = 0;
    const es = new EventSource(proxy.origin + '/events');
    try {
      es.addEventListener('open', () => { opens++; });
      es.addEventListener('message', (e) => got.push({ id: Number(e.lastEventId), data: e.data }));
      await waitFor(() => opens >= 1, { what: 'open', timeout: 10_000 });
      await writeFile(go, '');
      await waitFor(() => got.length >= 40, { what: '40 lines', timeout: 10_000 });
      proxy.cut(); // the package reconnects after the retry: delay, with Last-Event-ID
      await waitFor(() => got.length >= N, { what: `all ${N} lines`, timeout: 20_000 });
      await waitFor(() => got.at(-1).data === `count ${N}`, { what: 'the last line' });
    } finally {
      es.close();
      await proxy.close();
      const r = await cmd.close();
      assert.equal(r.code, 0, `ssedge exits 0 on SIGTERM (stderr: ${cmd.stderr})`);
    }
    assert.equal(opens, 2, 'one reconnect');
    assert.deepEqual(got.map((e) => e.data), Array.from({ length: N }, (_, i) => `count ${i + 1}`),
      'every line once, in order');
    const first = got[0].id;
    assert.deepEqual(got.map((e) => e.id), Array.from({ length: N }, (_, i) => first + i),
      'consecutive ids');
    assert.equal(proxy.leids.length, 2);
    assert.equal(proxy.leids[0], '-', 'no Last-Event-ID at first');
    const resumedFrom = Number(proxy.leids[1]);
    assert.ok(resumedFrom >= first + 39 && resumedFrom < first + N - 1,
      `resumed from an id seen before the cut (Last-Event-ID: ${proxy.leids[1]})`);
  });

  it('Chromium: the dashboard charts numeric series and JSON fields, and resumes after a cut', T, async (t) => {
    const feeder = path.join(dir, 'feeder.sh');
    await writeFile(feeder, '#!/bin/sh\n' +
      'i=0; while [ $i -lt 2000 ]; do i=$((i+1))\n' +
      '  printf "event: temp\\ndata: %d.5\\n\\n" $((20 + i % 7))\n' +
      '  printf "event: env\\ndata: {\\"rh\\": %d, \\"note\\": \\"x\\", \\"p\\": {\\"hpa\\": 1013}}\\n\\n" $((40 + i % 5))\n' +
      '  printf "event: log\\ndata: not a number %d\\n\\n" $i\n' +
      '  sleep 0.03; done\n', { mode: 0o755 });
    const cmd = await startSsedge(['--sse', '--', feeder]);
    const proxy = await proxyTo(Number(new URL(cmd.origin).port));
    const browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    try {
      const resp = await page.goto(proxy.origin + '/', { timeout: 10_000 });
      assert.equal(resp.status(), 200);
      const series = () => [...document.querySelectorAll('figure.series')]
        .map((f) => f.getAttribute('data-series'));
      await page.waitForFunction(() => document.body.dataset.state === 'open' &&
        Number(document.body.dataset.count) >= 300, undefined, { timeout: 20_000, polling: 50 })
        .catch(async (e) => {
          throw new Error(`${e.message}; seen ${JSON.stringify(await page.evaluate(() =>
            ({ ...document.body.dataset })))}; ${problems.join(' ')}; ssedge: ${cmd.stderr}`);
        });
      assert.deepEqual((await page.evaluate(series)).sort(), ['env.p.hpa', 'env.rh', 'temp'],
        'a chart for the number and for each numeric JSON field; none for text');
      const cols = await page.evaluate(lineColumns, 'temp');
      t.diagnostic(`temp chart: ${cols.columns} of ${cols.width} columns`);
      assert.ok(cols.columns > cols.width / 2, `temp is drawn as a line: ${cols.columns} of ${cols.width} columns`);
      const last = await page.evaluate(() => document.querySelector(
        'figure.series[data-series="temp"] figcaption b').textContent);
      assert.match(last, /^2[0-6]\.5$/, 'the caption shows the newest value');
      const rows = await page.evaluate(() => [...document.querySelectorAll('#events tr')]
        .slice(0, 3).map((tr) => [...tr.children].map((td) => td.textContent)));
      assert.deepEqual(rows.map((r) => r[1]).sort(), ['env', 'log', 'temp'], 'the table: event names');
      assert.match(rows.find((r) => r[1] === 'log')[3], /^not a number \d+$/, 'the table: data');

      // Cut: the page reconnects after the retry delay with Last-Event-ID.
      const before = Number(await page.evaluate(() => document.body.dataset.lastId));
      proxy.cut();
      await page.waitForFunction((n) => Number(document.body.dataset.reconnects) === 1 &&
        Number(document.body.dataset.lastId) > n + 15, before, { timeout: 15_000, polling: 50 });
      const ids = await page.evaluate(() => [...document.querySelectorAll('#events tr')]
        .map((tr) => Number(tr.children[2].textContent)));
      assert.deepEqual(ids, [...ids].sort((a, b) => b - a).filter((v, i, a) => a.indexOf(v) === i),
        'the table: every id once after the resume');
      assert.ok(ids.every((v, i) => i === 0 || ids[i - 1] === v + 1), 'no id missing across the cut');
      assert.ok(proxy.leids.some((v) => v !== '-' && Number(v) >= before),
        `the reconnect carried Last-Event-ID (requests: ${proxy.leids.join(' ')})`);
      await mkdir(path.dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath, timeout: 10_000 });
      t.diagnostic(`screenshot: ${screenshotPath}`);
      assert.deepEqual(problems, [], 'no uncaught errors in the page');
    } finally {
      await page.close().catch(() => {});
      await browser.close().catch(() => {});
      await proxy.close();
      await cmd.close();
    }
  });
});

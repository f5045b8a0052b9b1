// SPDX-License-Identifier: MIT
// The ssedge command (tools/ssedge) with real clients: the `eventsource`
// package reads a shell counter through a TCP proxy that drops the
// connection half-way, so the package resumes with Last-Event-ID: every
// line must arrive once, in order, with consecutive ids.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventSource } from 'eventsource';
import { Program, bin, freePort, waitFor } from './helpers.mjs';

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
});

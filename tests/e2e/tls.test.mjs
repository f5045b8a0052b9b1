// SPDX-License-Identifier: MIT
// The same real clients over https, against the binaries of a CONFIG_SSE_TLS
// build ($SSE_TLS_BIN, default build/tls/bin): a throw-away CA and server
// certificate for 127.0.0.1/localhost from scripts/devcert.sh (openssl), then
//  - the `eventsource` package (v4) with a fetch on an undici Agent that
//    trusts that CA: named events with ids, resume with Last-Event-ID across
//    a restart; and without the CA the connection must fail;
//  - headless Chromium trusting the server key by its SPKI hash
//    (--ignore-certificate-errors-spki-list): the page on https, its
//    EventSource, resume across a restart; without the pin it must refuse;
//  - the telemetry dashboard over https reaching state "open".

import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { accessSync, constants as fsc, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { EventSource } from 'eventsource';
import { Agent, fetch as undiciFetch } from 'undici';
import {
  assertNamedEvents, assertResumedFrom, ids, recordSource,
} from './checks.mjs';
import {
  E2EServer, Program, freePort, launchChromium, range, repoRoot, sleep, waitFor,
} from './helpers.mjs';
import { checkNamed, checkResume, installRecorder, pageStreams } from './page.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const tlsBinDir = path.resolve(process.env.SSE_TLS_BIN || path.join(here, '../../build/tls/bin'));
const tlsBin = (name) => path.join(tlsBinDir, name);

/** Throw (fail, never skip) when the TLS build's binary is missing. */
function requireTlsBin(name) {
  const f = tlsBin(name);
  try {
    accessSync(f, fsc.X_OK);
  } catch {
    throw new Error(`missing ${f}: build the TLS variant first (make BUILD=build/tls ` +
      'KCONFIG_CONFIG=build/tls/.config DEFCONFIG=configs/posix_tls_defconfig ' +
      `build/tls/bin/${name}), or point SSE_TLS_BIN at its bin directory`);
  }
  return f;
}

// One certificate set for the whole file, in a temporary directory removed
// at the end (also when a test failed).
let certDir;
let cert; // { dir, ca, caPem, crt, key, spki }

before(async () => {
  certDir = mkdtempSync(path.join(tmpdir(), 'sse-e2e-tls-'));
  const dir = path.join(certDir, 'pki');
  await promisify(execFile)(path.join(repoRoot, 'scripts/devcert.sh'), [dir],
    { timeout: 20_000 });
  const crtPem = readFileSync(path.join(dir, 'server.crt'), 'utf8');
  // base64(sha256(SubjectPublicKeyInfo DER)): what Chromium's
  // --ignore-certificate-errors-spki-list takes.
  const spkiDer = new X509Certificate(crtPem).publicKey.export({ type: 'spki', format: 'der' });
  cert = {
    ca: path.join(dir, 'ca.crt'),
    caPem: readFileSync(path.join(dir, 'ca.crt'), 'utf8'),
    crt: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
    spki: createHash('sha256').update(spkiDer).digest('base64'),
  };
});

after(() => {
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

const startTls = (opts) => E2EServer.start({
  ...opts, file: requireTlsBin('sse_e2e_server'), tls: { cert: cert.crt, key: cert.key },
});

const T = { timeout: 30_000 }; // each test; every describe has its own bound

describe('eventsource package over https', { timeout: 90_000 }, () => {
  let server;
  let es;
  let agent;

  afterEach(async () => {
    es?.close();
    es = undefined;
    await agent?.destroy().catch(() => {});
    agent = undefined;
    await server?.close();
    server = undefined;
  });

  // Open a source that records every event of @p types, errors and opens.
  // @p trustCa: fetch through an undici Agent trusting the test CA; else the
  // package's default (Node's global fetch, system trust store only).
  function record(url, types, { trustCa }) {
    let opts;
    if (trustCa) {
      agent = new Agent({ connect: { ca: cert.caPem } });
      const dispatcher = agent;
      opts = { fetch: (input, init) => undiciFetch(input, { ...init, dispatcher }) };
    }
    const rec = recordSource(url, types, opts);
    es = rec.es;
    return rec;
  }

  async function openedOn(s, rec, n = 1) {
    await waitFor(() => rec.opens >= n, {
      what: `client open #${n} (errors: ${JSON.stringify(rec.errors.slice(-3))})`, timeout: 10_000,
    });
    await waitFor(async () => (await s.log()).opens >= n, { what: `server on_open #${n}` });
  }

  it('receives named events with ids over https with the test CA', T, async () => {
    server = await startTls({ retryMs: 500 });
    assert.match(server.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
    const rec = record(server.origin + '/events', ['message', 'custom'], { trustCa: true });
    await openedOn(server, rec);
    const m = await server.publish(4);
    const c = await server.publish(2, 'custom');
    await waitFor(() => rec.events.length >= 6, { what: '6 events' });
    await sleep(150); // nothing more may follow
    assertNamedEvents(rec.events, m, c, 4, 2);
    assert.equal(rec.events[0].data, 'n1');
    assert.equal(es.readyState, EventSource.OPEN);
    assert.deepEqual(rec.errors, []);
  });

  it('resumes with Last-Event-ID after stop/start over https, every missed id once', T, async () => {
    server = await startTls({ retryMs: 300 });
    const rec = record(server.origin + '/events', ['message'], { trustCa: true });
    await openedOn(server, rec);
    const first = await server.publish(3);
    await waitFor(() => rec.events.length >= 3, { what: '3 events' });
    const lastSeen = Number(rec.events.at(-1).id);
    assert.equal(lastSeen, first.last);

    await server.cmd('stop');
    await waitFor(() => rec.errors.length >= 1, { what: 'error on stop', timeout: 5000 });
    const missed = await server.publish(7); // while stopped: kept in the ring
    assert.equal(missed.first, lastSeen + 1);
    const logStopped = await server.log();
    await sleep(400); // let the client fail to connect at least once
    await server.cmd('start'); // https again: cfg.tls is kept

    await openedOn(server, rec, 2);
    await waitFor(() => rec.events.length >= 10, { what: 'the 7 missed events' });
    const live = await server.publish(2);
    await waitFor(() => rec.events.length >= 12, { what: '2 live events' });
    await sleep(150);

    assert.deepEqual(ids(rec.events), range(first.first, live.last), 'every id once, in order');
    assert.equal(rec.opens, 2);
    await assertResumedFrom(server, logStopped, lastSeen, 'eventsource over https');
    const st = await server.cmd('stats');
    assert.equal(st.tls_failures, '0', 'no failed handshake with the right CA');
  });

  it('fails without the test CA: the certificate is not trusted', T, async (t) => {
    server = await startTls({ retryMs: 200 });
    const rec = record(server.origin + '/events', ['message'], { trustCa: false });
    // (It would retry after its default 3 s: no retry field ever arrived.)
    await waitFor(() => rec.errors.length >= 1, { what: 'a failed connection attempt', timeout: 10_000 });
    await server.publish(1);
    await sleep(200);
    assert.equal(es.readyState, EventSource.CONNECTING, 'still trying, never open');
    es.close();
    t.diagnostic(`eventsource error without the CA: ${rec.errors[0]}`);
    assertUntrusted(rec.errors[0]);
    assert.equal(rec.opens, 0, 'never opened');
    assert.deepEqual(rec.events, []);
    // Node checks the certificate after the handshake and then drops the
    // connection unused, so the server sees no request (and, unlike with
    // Chromium, no failed handshake).
    const log = await server.log();
    assert.equal(log.requests, 0, 'no HTTP request was sent over the untrusted connection');

    // The same URL with the CA works: the failure above is the trust, not the server.
    const ok = await undiciFetch(server.origin + '/', {
      dispatcher: (agent = new Agent({ connect: { ca: cert.caPem } })),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /ssedge e2e/);
    // And plain http to the https port gets no HTTP answer.
    await assert.rejects(
      fetch(server.origin.replace('https:', 'http:') + '/', { signal: AbortSignal.timeout(5000) }));
  });
});

function assertUntrusted(message) {
  assert.match(String(message),
    /certificate|self[- ]signed|unable to verify|UNABLE_TO_VERIFY|CERT_/i,
    `the error names the untrusted certificate: ${message}`);
}

describe('Chromium over https (test key pinned by SPKI hash)', { timeout: 120_000 }, () => {
  let browser;
  let page;
  let server;
  let app;

  before(async () => {
    requireTlsBin('sse_e2e_server');
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${cert.spki}`]);
  });
  after(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await page?.close().catch(() => {});
    page = undefined;
    await server?.close();
    server = undefined;
    await app?.close();
    app = undefined;
  });

  const streams = pageStreams(() => page, () => server);
  const { open } = streams;

  async function setup(opts) {
    server = await startTls(opts);
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    const resp = await page.goto(server.origin + '/', { timeout: 10_000 });
    assert.equal(resp.status(), 200);
    assert.equal(await page.title(), 'e2e');
    const loc = await page.evaluate(() => ({
      protocol: location.protocol, secure: window.isSecureContext, origin: location.origin,
    }));
    assert.equal(loc.protocol, 'https:');
    assert.equal(loc.secure, true);
    assert.equal(loc.origin, server.origin);
    await page.evaluate(installRecorder);
  }

  it('loads the page on https and receives named events with ids', T, async () => {
    await setup({ retryMs: 1000 });
    await checkNamed(streams, server);
  });

  it('resumes after stop/start with Last-Event-ID over https: no gap, no duplicate', T, async () => {
    await setup({ retryMs: 400 });
    await open('s', '/events', ['message']);
    await checkResume(streams, server, 'Chromium over https');
    assert.equal((await server.cmd('stats')).tls_failures, '0');
  });

  it('refuses the page without the pin (certificate authority invalid)', T, async () => {
    server = await startTls({});
    const plain = await launchChromium();
    try {
      const p = await plain.newPage();
      const err = await p.goto(server.origin + '/', { timeout: 10_000 }).then(
        () => null, (e) => e);
      assert.ok(err, 'navigation must fail without trusting the test certificate');
      assert.match(err.message, /ERR_CERT_AUTHORITY_INVALID|ERR_CERT_/, err.message);
      // Chromium rejects the certificate inside the handshake (an alert).
      await waitFor(async () => Number((await server.cmd('stats')).tls_failures) >= 1,
        { what: 'the server counting the refused handshake', timeout: 5000 });
      assert.equal((await server.log()).requests, 0, 'no HTTP request');
    } finally {
      await plain.close();
    }
  });

  it('telemetry dashboard over https reaches state "open"', T, async () => {
    const port = await freePort();
    app = new Program(requireTlsBin('telemetry'), ['--bind', '127.0.0.1', '--port', String(port),
      '--interval-ms', '200', '--cert', cert.crt, '--key', cert.key]);
    const origin = `https://127.0.0.1:${port}`;
    await waitFor(() => {
      if (app.proc.exitCode !== null) throw new Error(`telemetry exited: ${app.stderr}`);
      return app.stdout.includes(`https://127.0.0.1:${port}/`);
    }, { what: `telemetry's "https://127.0.0.1:${port}/" line`, timeout: 10_000, interval: 50 });
    page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    const resp = await page.goto(origin + '/', { timeout: 10_000 });
    assert.equal(resp.status(), 200);
    assert.equal(await page.evaluate(() => location.protocol), 'https:');
    await page.waitForFunction(() => {
      const st = document.querySelector('#state');
      return st && st.textContent.trim() === 'open' && Number(document.body.dataset.points) >= 3;
    }, undefined, { timeout: 15_000, polling: 50 }).catch(async (e) => {
      const seen = await page.evaluate(() => ({
        state: document.querySelector('#state')?.textContent,
        points: document.body.dataset.points,
      })).catch(() => ({}));
      throw new Error(`${e.message}\nseen: ${JSON.stringify(seen)}\n${problems.join('\n')}\n` +
                      `telemetry stderr: ${app.stderr}`);
    });
    assert.match(await page.evaluate(() => document.querySelector('#lastid')?.textContent ?? ''), /[1-9]/);
    assert.deepEqual(problems, []);
  });
});

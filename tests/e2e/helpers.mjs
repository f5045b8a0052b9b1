// SPDX-License-Identifier: MIT
// Helpers for the end-to-end tests: spawn sse_e2e_server (or another
// binary), send it commands and await the one-line replies, launch
// Chromium, bounded waits. Everything spawned here is killed by its close().

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export { sleep };

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');

/** Directory of the built binaries: $SSE_BIN, else ../../build/bin. */
export const binDir = path.resolve(process.env.SSE_BIN || path.join(here, '../../build/bin'));
export const bin = (name) => path.join(binDir, name);

export const CHROMIUM = process.env.SSE_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/** Launch Chromium (fresh temporary profile, as playwright does by default)
 *  with CHROMIUM_ARGS plus @p extraArgs. */
export async function launchChromium(extraArgs = []) {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    headless: true,
    timeout: 30_000,
  });
}

/** Reject with a clear message if @p promise is not settled within @p ms. */
export function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

/** Poll @p fn (sync or async) until it returns a truthy value; bounded. */
export async function waitFor(fn, { timeout = 5000, interval = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= end) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Parse "ok a=1 b=x,y" into { ok, raw, a: '1', b: 'x,y' }. */
export function parseReply(line) {
  const [status, ...rest] = line.trim().split(/\s+/);
  const r = { ok: status === 'ok', raw: line };
  for (const kv of rest) {
    const i = kv.indexOf('=');
    if (i > 0) r[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return r;
}

// Every child still running when this process exits is killed with it (a
// test that failed half-way, a runner cancelling a file).
const live = new Set();
process.on('exit', () => {
  for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
});

/** A spawned child process with its output collected, killed by close(). */
class Child {
  constructor(file, args, { name = path.basename(file) } = {}) {
    this.name = name;
    this.stderr = '';
    this.stdoutLines = [];
    this.proc = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.proc);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => { live.delete(this.proc); resolve({ code, signal }); });
      this.proc.on('error', (err) => resolve({ code: null, signal: null, error: err }));
    });
    this.proc.stderr.setEncoding('utf8');
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
      if (process.env.SSE_E2E_VERBOSE) process.stderr.write(`[${this.name}] ${d}`);
    });
    this.proc.stdin.on('error', () => {}); // EPIPE after the child died
  }

  /** Stop the child: close stdin (EOF), then SIGTERM, then SIGKILL. */
  async close(graceMs = 3000) {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.exited;
    try { this.proc.stdin.end(); } catch { /* already closed */ }
    let r = await Promise.race([this.exited, sleep(graceMs, null, { ref: false })]);
    if (r) return r;
    this.proc.kill('SIGTERM');
    r = await Promise.race([this.exited, sleep(2000, null, { ref: false })]);
    if (r) return r;
    this.proc.kill('SIGKILL');
    return this.exited;
  }
}

/**
 * sse_e2e_server on 127.0.0.1 (an ephemeral port unless @p port is given).
 * With @p tls = { cert, key } (PEM file paths) it serves https: run the
 * binary of a CONFIG_SSE_TLS build (@p file). origin is http:// or https://
 * accordingly. cmd(line) sends one command and resolves with its parsed
 * reply line; a reply starting with "err" rejects.
 */
export class E2EServer extends Child {
  static async start({ retryMs, port = 0, timeout = 10_000, file = bin('sse_e2e_server'), tls } = {}) {
    const args = ['--port', String(port)];
    if (retryMs !== undefined) args.push('--retry-ms', String(retryMs));
    if (tls) args.push('--cert', tls.cert, '--key', tls.key);
    const s = new E2EServer(file, args);
    const first = await withTimeout(s.#nextLine(), timeout, 'sse_e2e_server "ready" line')
      .catch(async (e) => { await s.close(); throw new Error(`${e.message}; stderr: ${s.stderr}`); });
    const m = /^ready port=(\d+)( tls=1)?$/.exec(first);
    if (!m || Boolean(m[2]) !== Boolean(tls)) {
      await s.close(); // also lets stderr (the reason) arrive
      throw new Error(`${file}: unexpected first line ${JSON.stringify(first)}; stderr: ${s.stderr}`);
    }
    s.port = Number(m[1]);
    s.origin = `${tls ? 'https' : 'http'}://127.0.0.1:${s.port}`;
    return s;
  }

  constructor(file, args) {
    super(file, args, { name: 'sse_e2e_server' });
    this.waiters = [];
    this.queue = Promise.resolve();
    this.rl = createInterface({ input: this.proc.stdout });
    this.rl.on('line', (line) => {
      const w = this.waiters.shift();
      if (w) w.resolve(line);
      else this.stdoutLines.push(line); // unexpected extra output: kept for diagnostics
    });
    this.exited.then(({ code, signal }) => {
      for (const w of this.waiters.splice(0))
        w.reject(new Error(`sse_e2e_server exited (code ${code}, signal ${signal}); stderr: ${this.stderr}`));
    });
  }

  #nextLine() {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Send one command; resolve with its parsed reply (reject on "err"). */
  cmd(line, timeout = 10_000) {
    const run = async () => {
      const reply = this.#nextLine();
      this.proc.stdin.write(line + '\n');
      let got;
      try {
        got = await withTimeout(reply, timeout, `reply to "${line}"`);
      } catch (e) {
        // A late reply would shift every later one: the server is unusable.
        this.proc.kill('SIGKILL');
        throw e;
      }
      const r = parseReply(got);
      if (!r.ok) throw new Error(`"${line}" -> ${got}`);
      return r;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => {});
    return p;
  }

  /** "log" parsed: { opens, requests, leids: [..] } ("-" = header absent). */
  async log() {
    const r = await this.cmd('log');
    return {
      opens: Number(r.opens),
      requests: Number(r.requests),
      leids: r.leids ? r.leids.split(',') : [],
    };
  }

  async publish(n, event) {
    const r = await this.cmd(event ? `publish ${n} ${event}` : `publish ${n}`);
    return { first: Number(r.first), last: Number(r.last) };
  }

  async publishCh(name, n) {
    const r = await this.cmd(`publish_ch ${name} ${n}`);
    return { first: Number(r.first), last: Number(r.last) };
  }

  async close() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      // "quit" stops the server and exits; EOF would do the same.
      this.proc.stdin.write('quit\n');
    }
    return super.close();
  }
}

/** Any other binary (the telemetry example), stopped with SIGTERM. */
export class Program extends Child {
  constructor(file, args) {
    super(file, args);
    this.proc.stdout.setEncoding('utf8');
    this.stdout = '';
    this.proc.stdout.on('data', (d) => { this.stdout += d; });
  }

  async close() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    const r = await Promise.race([this.exited, sleep(5000, null, { ref: false })]);
    if (r) return r;
    this.proc.kill('SIGKILL');
    return this.exited;
  }
}

/** Integers a..b inclusive. */
export const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

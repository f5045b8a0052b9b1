// SPDX-License-Identifier: MIT
// The telemetry example's dashboard in Chromium: it connects, plots points
// on its canvas, and a screenshot is saved ($SSE_SCREENSHOT, default
// build/dashboard.png) for a person to look at.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Program, bin, freePort, launchChromium, repoRoot, waitFor } from './helpers.mjs';

const screenshotPath = path.resolve(process.env.SSE_SCREENSHOT || path.join(repoRoot, 'build/dashboard.png'));

// In the page: pixels of canvas#chart that differ from its background (the
// most frequent colour).
function chartPixels() {
  const src = document.querySelector('canvas#chart');
  if (!src || !src.width || !src.height) return { width: 0, height: 0, background: null, drawn: 0 };
  const copy = document.createElement('canvas');
  copy.width = src.width;
  copy.height = src.height;
  const ctx = copy.getContext('2d');
  ctx.drawImage(src, 0, 0);
  const px = ctx.getImageData(0, 0, copy.width, copy.height).data;
  const freq = new Map();
  for (let i = 0; i < px.length; i += 4) {
    const k = ((px[i] << 24) | (px[i + 1] << 16) | (px[i + 2] << 8) | px[i + 3]) >>> 0;
    freq.set(k, (freq.get(k) || 0) + 1);
  }
  let bg = 0;
  let best = -1;
  for (const [k, n] of freq) if (n > best) { best = n; bg = k; }
  const bgc = [bg >>> 24, (bg >>> 16) & 255, (bg >>> 8) & 255, bg & 255];
  let drawn = 0;
  for (let i = 0; i < px.length; i += 4) {
    const d = Math.abs(px[i] - bgc[0]) + Math.abs(px[i + 1] - bgc[1]) +
              Math.abs(px[i + 2] - bgc[2]) + Math.abs(px[i + 3] - bgc[3]);
    if (d > 24) drawn++;
  }
  return { width: copy.width, height: copy.height, background: bgc, drawn };
}

// In the page: for each series colour, how many pixel columns of the chart
// hold an opaque pixel of that colour. A plotted line spans most of the
// width; the series' label (same colour) spans far less, and grid, axes and
// fills are other colours or translucent.
function seriesColumns(colors) {
  const src = document.querySelector('canvas#chart');
  const ctx = src.getContext('2d');
  const px = ctx.getImageData(0, 0, src.width, src.height).data;
  const rgb = colors.map((h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)));
  return rgb.map(([r, g, b]) => {
    const cols = new Set();
    for (let i = 0; i < px.length; i += 4) {
      if (px[i + 3] > 200 && Math.abs(px[i] - r) + Math.abs(px[i + 1] - g) +
          Math.abs(px[i + 2] - b) < 60)
        cols.add((i / 4) % src.width);
    }
    return { columns: cols.size, width: src.width };
  });
}

// The dashboard's series colours (examples/telemetry/web/app.js).
const SERIES = { load: '#2563eb', mem: '#0d9488', clients: '#ea580c' };

const T = { timeout: 30_000 }; // each test; the file as a whole has its own bound

describe('telemetry dashboard', { timeout: 60_000 }, () => {
  let browser;
  let app;

  before(async () => {
    const port = await freePort();
    app = new Program(bin('telemetry'),
      ['--bind', '127.0.0.1', '--port', String(port), '--interval-ms', '200']);
    app.origin = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      if (app.proc.exitCode !== null) throw new Error(`telemetry exited: ${app.stderr}`);
      try {
        const r = await fetch(app.origin + '/', { signal: AbortSignal.timeout(1000) });
        await r.arrayBuffer();
        return r.status === 200;
      } catch {
        return false;
      }
    }, { what: 'telemetry answering GET /', timeout: 10_000, interval: 50 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows the live stream and draws the chart', T, async (t) => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    const problems = [];  // uncaught exceptions in the page: a failure
    const consoleErrors = []; // console.error and failed loads: reported only
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    try {
      const resp = await page.goto(app.origin + '/', { timeout: 10_000 });
      assert.equal(resp.status(), 200);
      await page.waitForFunction(() => {
        const st = document.querySelector('#state');
        return st && st.textContent.trim() === 'open' &&
               Number(document.body.dataset.points) >= 30;
      }, undefined, { timeout: 20_000, polling: 50 }).catch(async (e) => {
        const seen = await page.evaluate(() => ({
          state: document.querySelector('#state')?.textContent,
          points: document.body.dataset.points,
        })).catch(() => ({}));
        throw new Error(`${e.message}\nseen: ${JSON.stringify(seen)}\n` +
                        [...problems, ...consoleErrors].join('\n'));
      });

      const fields = await page.evaluate(() => Object.fromEntries(
        ['#state', '#lastid', '#reconnects', '#rate', '#count']
          .map((s) => [s, document.querySelector(s)?.textContent.trim() ?? null])));
      for (const [sel, text] of Object.entries(fields)) assert.notEqual(text, null, `${sel} exists`);
      assert.match(fields['#lastid'], /[1-9]/, '#lastid shows an event id');

      const px = await page.evaluate(chartPixels);
      t.diagnostic(`fields ${JSON.stringify(fields)}, points ${await page.evaluate(() => document.body.dataset.points)}, ` +
                   `canvas ${px.width}x${px.height}, background ${px.background}, ${px.drawn} drawn pixels`);
      assert.ok(px.width > 0 && px.height > 0, 'canvas#chart has a size');
      assert.ok(px.drawn > 200, `the chart draws something: ${px.drawn} pixels off the background`);
      const cols = await page.evaluate(seriesColumns, Object.values(SERIES));
      t.diagnostic(`series columns ${JSON.stringify(cols)}`);
      Object.keys(SERIES).forEach((name, i) => {
        assert.ok(cols[i].columns > cols[i].width / 3,
                  `${name} is plotted as a line across the chart: ${cols[i].columns} of ${cols[i].width} columns`);
      });

      await mkdir(path.dirname(screenshotPath), { recursive: true });
      await page.screenshot({ path: screenshotPath, timeout: 10_000 });
      t.diagnostic(`screenshot: ${screenshotPath}`);
      if (consoleErrors.length) t.diagnostic(`console errors: ${consoleErrors.join(' | ')}`);
      assert.deepEqual(problems, [], 'no uncaught errors in the page');
    } finally {
      await page.close().catch(() => {});
    }
  });
});

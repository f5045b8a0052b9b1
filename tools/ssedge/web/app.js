/* SPDX-License-Identifier: MIT */
/* The ssedge command's dashboard. The stream is read with fetch() and
 * parsed here (WHATWG rules) rather than with EventSource, which cannot
 * listen for event names it does not know in advance; it reconnects the
 * same way: after the server's retry: delay, with Last-Event-ID, and stops
 * for good on 204 or a refused token. ?token=T is passed on. The first
 * request replays what the server's ring still holds. */
(function () {
  'use strict';

  var N = 120;            // points kept per series
  var ROWS = 100;         // event rows kept
  var MAX_SERIES = 32;    // charts at most
  var COLORS = ['#2563eb', '#0d9488', '#ea580c', '#7c3aed', '#db2777', '#65a30d',
                '#0891b2', '#ca8a04'];

  var $ = function (id) { return document.getElementById(id); };
  var token = new URLSearchParams(location.search).get('token');
  var streamPath = '/events';
  // The first request asks for the ring's history (Last-Event-ID: 0), so
  // the charts start full; later ones resume after the last id seen.
  var lastId = '0';
  var retryMs = 3000;
  var count = 0, reconnects = 0, opened = false;
  var series = {}, order = [];
  var drawPending = false;

  function setState(st) {
    var el = $('state');
    el.textContent = st;
    el.setAttribute('data-state', st);
    document.body.dataset.state = st;
  }

  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function clock() {
    var d = new Date();
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function authHeaders(h) {
    if (token) h.Authorization = 'Bearer ' + token;
    return h;
  }

  /* ---- series --------------------------------------------------------- */

  function fmt(v) {
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
    return String(+v.toFixed(a >= 100 ? 1 : 3));
  }

  var NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

  // Every number in the data: a plain number, or the numeric fields of a
  // JSON object (one level of nesting, short arrays) named "event.field".
  function numbers(name, data) {
    var out = [];
    if (NUMBER.test(data)) {
      out.push([name, parseFloat(data)]);
      return out;
    }
    var t = data.trim();
    if (t.charAt(0) !== '{') return out;
    var obj;
    try { obj = JSON.parse(t); } catch (e) { return out; }
    (function walk(prefix, o, depth) {
      Object.keys(o).forEach(function (k) {
        var v = o[k], key = prefix + '.' + k;
        if (typeof v === 'number' && isFinite(v)) out.push([key, v]);
        else if (Array.isArray(v) && depth < 2) {
          v.slice(0, 8).forEach(function (x, i) {
            if (typeof x === 'number' && isFinite(x)) out.push([key + '[' + i + ']', x]);
          });
        } else if (v && typeof v === 'object' && depth < 2) walk(key, v, depth + 1);
      });
    })(name, obj, 1);
    return out;
  }

  function seriesFor(key) {
    var s = series[key];
    if (s || order.length >= MAX_SERIES) return s;
    var fig = document.createElement('figure');
    fig.className = 'series';
    fig.setAttribute('data-series', key);
    var cap = document.createElement('figcaption');
    var name = document.createElement('span');
    name.textContent = key;
    var val = document.createElement('b');
    cap.appendChild(name);
    cap.appendChild(val);
    var canvas = document.createElement('canvas');
    fig.appendChild(cap);
    fig.appendChild(canvas);
    $('charts').appendChild(fig);
    $('nocharts').hidden = true;
    s = series[key] = { key: key, color: COLORS[order.length % COLORS.length], data: [],
                        canvas: canvas, val: val };
    canvas.setAttribute('data-color', s.color);
    order.push(key);
    return s;
  }

  function plot(name, data) {
    var now = Date.now();
    numbers(name, data).forEach(function (kv) {
      var s = seriesFor(kv[0]);
      if (!s) return;
      s.data.push({ t: now, v: kv[1] });
      if (s.data.length > N) s.data.splice(0, s.data.length - N);
      s.val.textContent = fmt(kv[1]);
    });
    scheduleDraw();
  }

  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(function () { drawPending = false; order.forEach(function (k) { draw(series[k]); }); });
  }

  function draw(s) {
    var c = s.canvas, ctx = c.getContext('2d');
    var w = c.clientWidth, h = c.clientHeight, dpr = window.devicePixelRatio || 1;
    var pw = Math.max(1, Math.round(w * dpr)), ph = Math.max(1, Math.round(h * dpr));
    if (c.width !== pw || c.height !== ph) { c.width = pw; c.height = ph; }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var d = s.data;
    if (!d.length || w < 40) return;
    var lo = Infinity, hi = -Infinity;
    d.forEach(function (p) { if (p.v < lo) lo = p.v; if (p.v > hi) hi = p.v; });
    if (hi === lo) { hi += Math.abs(hi) * 0.05 || 1; lo -= Math.abs(lo) * 0.05 || 1; }
    var L = 44, R = 6, T = 6, B = 6;
    // One step per event, newest at the right: events replayed after a
    // reconnect come in a burst, and arrival times would pile them up.
    var step = (w - L - R) / (N - 1);
    var x = function (i) { return w - R - (d.length - 1 - i) * step; };
    var y = function (v) { return h - B - (v - lo) / (hi - lo) * (h - T - B); };
    ctx.font = '11px system-ui, sans-serif';
    ctx.fillStyle = '#6b7280';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.strokeStyle = '#eef0f4';
    ctx.lineWidth = 1;
    [lo, hi].forEach(function (v) {
      var yy = Math.round(y(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(L, yy); ctx.lineTo(w - R, yy); ctx.stroke();
      ctx.fillText(fmt(v), L - 6, yy);
    });
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.beginPath();
    d.forEach(function (p, i) { if (i) ctx.lineTo(x(i), y(p.v)); else ctx.moveTo(x(i), y(p.v)); });
    if (d.length === 1) ctx.lineTo(x(0) - 6, y(d[0].v));
    ctx.stroke();
    ctx.fillStyle = s.color;
    ctx.beginPath();
    ctx.arc(x(d.length - 1), y(d[d.length - 1].v), 3, 0, 2 * Math.PI);
    ctx.fill();
  }

  /* ---- events --------------------------------------------------------- */

  function row(name, id, data) {
    var tr = document.createElement('tr');
    [clock(), name, id || '', data].forEach(function (text) {
      var td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    });
    var tb = $('events');
    tb.insertBefore(tr, tb.firstChild);
    while (tb.childNodes.length > ROWS) tb.removeChild(tb.lastChild);
    $('shown').textContent = '(newest ' + tb.childNodes.length + ')';
  }

  function dispatch(name, data, id) {
    count++;
    $('count').textContent = count;
    $('lastid').textContent = id || '\u2013';
    document.body.dataset.count = String(count);
    document.body.dataset.lastId = id || '';
    row(name, id, data);
    plot(name, data);
    document.body.dataset.series = order.join(' ');
  }

  /* ---- the stream: fetch + a WHATWG event-stream parser ---------------- */

  function Parser() {
    this.buf = '';
    this.data = [];
    this.hasData = false;
    this.event = '';
  }
  Parser.prototype.push = function (text) {
    this.buf += text;
    for (;;) {
      var m = /\r\n|\r|\n/.exec(this.buf);
      if (!m) break;
      // A CR at the very end may be the first half of CRLF: wait for more.
      if (m[0] === '\r' && m.index === this.buf.length - 1) break;
      var line = this.buf.slice(0, m.index);
      this.buf = this.buf.slice(m.index + m[0].length);
      this.line(line);
    }
  };
  Parser.prototype.line = function (line) {
    if (line === '') {
      if (this.hasData) dispatch(this.event || 'message', this.data.join('\n'), lastId);
      this.data = [];
      this.hasData = false;
      this.event = '';
      return;
    }
    if (line.charAt(0) === ':') return;
    var i = line.indexOf(':');
    var field = i < 0 ? line : line.slice(0, i);
    var value = i < 0 ? '' : line.slice(i + 1);
    if (value.charAt(0) === ' ') value = value.slice(1);
    if (field === 'data') { this.data.push(value); this.hasData = true; }
    else if (field === 'event') this.event = value;
    else if (field === 'id' && value.indexOf('\0') < 0) lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = parseInt(value, 10);
  };

  var ctrl = null;

  function again(why) {
    setState('reconnecting');
    document.body.dataset.reconnecting = why;
    setTimeout(connect, retryMs);
  }

  function stop(why) {
    setState('closed');
    row('(closed)', '', why);
  }

  function connect() {
    var q = [];
    var url = streamPath;
    if (token) q.push('token=' + encodeURIComponent(token)); // for proxies that drop headers
    if (q.length) url += (url.indexOf('?') < 0 ? '?' : '&') + q.join('&');
    $('url').textContent = url.replace(/token=[^&]*/, 'token=\u2026');
    ctrl = new AbortController();
    var headers = authHeaders({ Accept: 'text/event-stream' });
    headers['Last-Event-ID'] = lastId;
    setState(opened ? 'reconnecting' : 'connecting');
    fetch(url, { headers: headers, cache: 'no-store', signal: ctrl.signal }).then(function (res) {
      if (res.status === 204) return stop('the server said stop (204)');
      if (res.status === 401 || res.status === 403)
        return stop('refused: ' + res.status + ' (open the page as /?token=...)');
      var ct = res.headers.get('Content-Type') || '';
      if (!res.ok || ct.indexOf('text/event-stream') !== 0 || !res.body)
        return again('HTTP ' + res.status);
      if (opened) {
        reconnects++;
        $('reconnects').textContent = reconnects;
        document.body.dataset.reconnects = String(reconnects);
      }
      opened = true;
      setState('open');
      var reader = res.body.getReader(), dec = new TextDecoder('utf-8'), p = new Parser();
      (function pump() {
        reader.read().then(function (r) {
          if (r.done) { p.push(dec.decode()); return again('the stream ended'); }
          p.push(dec.decode(r.value, { stream: true }));
          pump();
        }, function () { again('the connection broke'); });
      })();
    }, function () { again('no connection'); });
  }

  /* Where the stream is: /ssedge.json names its channels. */
  fetch('/ssedge.json' + (token ? '?token=' + encodeURIComponent(token) : ''),
        { headers: authHeaders({}), cache: 'no-store' }).then(function (r) {
    return r.ok ? r.json() : null;
  }).then(function (cfg) {
    if (cfg) {
      streamPath = cfg.stream || streamPath;
      if (cfg.channels && cfg.channels.length)
        streamPath += '?ch=' + cfg.channels.map(encodeURIComponent).join(',');
      $('source').textContent = (cfg.source || '') + (cfg.input === 'sse' ? ' (SSE records)' : '');
      document.title = 'ssedge: ' + (cfg.source || '');
    }
  }, function () { /* an older ssedge: /events */ }).then(connect);
})();

/* ssedge telemetry dashboard: one EventSource, a hand-drawn canvas chart.
 * No framework and no network access needed beyond the device itself.
 * ?server=http://device:8080 reads the stream from another origin (start the
 * device with --cors-origin <this page's origin>). */
(function () {
  'use strict';

  var N = 120;               // values kept (and drawn) per series
  var RATE_WINDOW_MS = 5000; // events/s is averaged over this
  var LOG_MAX = 100;         // log lines kept

  var SERIES = [
    { name: 'load', label: 'Load (1 min)', color: '#2563eb', floor: 1,
      fmt: function (v) { return v.toFixed(2); } },
    { name: 'mem', label: 'Memory used', color: '#0d9488', floor: 10, cap: 100,
      fmt: function (v) { return v.toFixed(1) + ' %'; } },
    { name: 'clients', label: 'Streams', color: '#ea580c', floor: 2, integer: true,
      fmt: function (v) { return String(Math.round(v)); } }
  ];

  var $ = function (id) { return document.getElementById(id); };
  var canvas = $('chart');
  var ctx = canvas.getContext('2d');
  var params = new URLSearchParams(location.search);
  var base = (params.get('server') || '').replace(/\/+$/, '');

  var es = null;
  var state = '';
  var useChannels = true;   // false: server without channels, chart from "telemetry"
  var everOpen = false;     // this EventSource has opened at least once
  var hadError = false;     // an error since the last open (error -> open = reconnect)
  var paused = false;
  var retryTimer = 0, retryDelay = 0;
  var count = 0, reconnects = 0;
  var arrivals = [];        // performance.now() of recent events
  var firstArrival = 0;
  var lastT = -1;           // newest sample time (device uptime, ms)
  var drawPending = false;

  SERIES.forEach(function (s) { s.data = []; s.hidden = false; });

  /* ---- status ----------------------------------------------------------- */

  function setState(st) {
    if (st === state) return;
    state = st;
    var el = $('state');
    el.textContent = st;
    el.setAttribute('data-state', st);
    $('toggle').textContent = st === 'closed' ? (paused ? 'Resume' : 'Reconnect') : 'Pause';
    document.title = (st === 'open' ? '' : '(' + st + ') ') + 'ssedge telemetry';
  }

  function pad(n) { return n < 10 ? '0' + n : String(n); }

  function clock() {
    var d = new Date();
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function fmtDuration(s) {
    s = Math.max(0, Math.floor(s));
    var d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24;
    var m = Math.floor(s / 60) % 60, sec = s % 60;
    if (d) return d + 'd ' + h + 'h ' + pad(m) + 'm';
    if (h) return h + 'h ' + pad(m) + 'm ' + pad(sec) + 's';
    if (m) return m + 'm ' + pad(sec) + 's';
    return sec + ' s';
  }

  var logged = 0;
  function log(kind, text, id) {
    var ol = $('log');
    var li = document.createElement('li');
    li.className = 'k-' + kind;
    var t = document.createElement('time');
    t.textContent = clock();
    var k = document.createElement('span');
    k.className = 'kind';
    k.textContent = kind;
    var m = document.createElement('span');
    m.className = 'msg';
    m.textContent = text;
    li.appendChild(t);
    li.appendChild(k);
    li.appendChild(m);
    if (id) {
      var i = document.createElement('span');
      i.className = 'id';
      i.textContent = '#' + id;
      li.appendChild(i);
    }
    ol.insertBefore(li, ol.firstChild);
    while (ol.childNodes.length > LOG_MAX) ol.removeChild(ol.lastChild);
    logged++;
    $('logcount').textContent = logged + ' lines';
  }

  function seen(e) {
    var now = performance.now();
    count++;
    if (!firstArrival) firstArrival = now;
    arrivals.push(now);
    $('count').textContent = count;
    if (e.lastEventId) $('lastid').textContent = e.lastEventId;
  }

  function updateRate() {
    var now = performance.now();
    while (arrivals.length && arrivals[0] < now - RATE_WINDOW_MS) arrivals.shift();
    var win = firstArrival ? Math.min(RATE_WINDOW_MS, Math.max(1000, now - firstArrival)) : RATE_WINDOW_MS;
    $('rate').textContent = (arrivals.length * 1000 / win).toFixed(1);
  }

  /* ---- data ------------------------------------------------------------- */

  function byName(name) {
    for (var i = 0; i < SERIES.length; i++) if (SERIES[i].name === name) return SERIES[i];
    return null;
  }

  function push(s, v, t) {
    if (typeof v !== 'number' || !isFinite(v)) return;
    if (typeof t !== 'number' || !isFinite(t)) t = lastT >= 0 ? lastT : 0;
    if (t < lastT - 1000) {           // device uptime went back: it restarted
      SERIES.forEach(function (x) { x.data.length = 0; });
      log('state', 'device restarted: chart cleared');
    }
    lastT = t;
    s.data.push({ t: t, v: v });
    if (s.data.length > N) s.data.splice(0, s.data.length - N);
    var el = $('v-' + s.name);
    if (el) el.textContent = s.fmt(v);
    scheduleDraw();
  }

  function parse(data) {
    try { return JSON.parse(data); } catch (err) { return null; }
  }

  function onSeries(e) {
    seen(e);
    var s = byName(e.type), d = parse(e.data);
    if (!s || d === null) return;
    if (typeof d === 'number') push(s, d, undefined);
    else push(s, d.v, d.t);
  }

  function onTelemetry(e) {
    seen(e);
    var d = parse(e.data);
    if (!d || typeof d !== 'object') return;
    if (typeof d.uptime_s === 'number') $('uptime').textContent = fmtDuration(d.uptime_s);
    if (!useChannels && typeof d.uptime_s === 'number') {   // older server: no channels
      push(byName('load'), d.load, d.uptime_s * 1000);
      push(byName('clients'), d.clients, d.uptime_s * 1000);
    }
  }

  function onMessage(e) {
    seen(e);
    log('message', e.data, e.lastEventId);
  }

  /* ---- connection ------------------------------------------------------- */

  // A server started with --token wants it; the page passes on its own
  // ?token= (EventSource cannot send an Authorization header).
  var token = new URLSearchParams(location.search).get('token');

  function streamUrl() {
    var q = [];
    if (useChannels) q.push('ch=' + SERIES.map(function (s) { return s.name; }).join(','));
    if (token) q.push('token=' + encodeURIComponent(token));
    return base + '/events' + (q.length ? '?' + q.join('&') : '');
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = 0;
    if (es) es.close();
    everOpen = false;
    hadError = false;
    var url = streamUrl();
    $('url').textContent = url.replace(/token=[^&]*/, 'token=…'); // not on screen
    es = new EventSource(url);
    setState('connecting');
    es.onopen = function () {
      if (hadError) {
        reconnects++;
        $('reconnects').textContent = reconnects;
        log('state', 'reconnected (Last-Event-ID ' + ($('lastid').textContent || '-') + ')');
      } else {
        log('state', 'connected');
      }
      everOpen = true;
      hadError = false;
      retryDelay = 0;
      setState('open');
    };
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        if (!everOpen && useChannels) {
          // A server without channels answers "?ch=" with 400: do without.
          useChannels = false;
          log('state', 'no channel support: falling back to "telemetry" events');
          connect();
          return;
        }
        // Neither form opened: perhaps not the server's fault (a proxy's 502),
        // so the next try asks for the channels again.
        if (!everOpen) useChannels = true;
        setState('closed');
        // The browser gave up (a non-200 answer). Try again, more slowly each time.
        retryDelay = Math.min(retryDelay ? retryDelay * 2 : 5000, 300000);
        log('state', 'closed by the server; retrying in ' + retryDelay / 1000 + ' s');
        retryTimer = setTimeout(connect, retryDelay);
        return;
      }
      if (!hadError) log('state', 'connection lost; reconnecting');
      hadError = true;
      setState('reconnecting');
    };
    SERIES.forEach(function (s) { es.addEventListener(s.name, onSeries); });
    es.addEventListener('telemetry', onTelemetry);
    es.addEventListener('message', onMessage);
  }

  $('toggle').addEventListener('click', function () {
    if (state === 'closed') {
      paused = false;
      retryDelay = 0;
      connect();
    } else {
      paused = true;
      clearTimeout(retryTimer);
      if (es) es.close();
      es = null;
      setState('closed');
      log('state', 'paused');
    }
  });

  /* ---- legend ----------------------------------------------------------- */

  SERIES.forEach(function (s) {
    var li = document.createElement('li');
    var b = document.createElement('button');
    b.type = 'button';
    b.setAttribute('aria-pressed', 'true');
    b.title = 'Hide or show ' + s.label;
    var sw = document.createElement('i');
    sw.style.background = s.color;
    var name = document.createElement('span');
    name.textContent = s.label;
    var val = document.createElement('b');
    val.id = 'v-' + s.name;
    val.textContent = '\u2013';
    b.appendChild(sw);
    b.appendChild(name);
    b.appendChild(val);
    b.addEventListener('click', function () {
      s.hidden = !s.hidden;
      b.setAttribute('aria-pressed', String(!s.hidden));
      scheduleDraw();
    });
    li.appendChild(b);
    $('legend').appendChild(li);
  });

  /* ---- chart ------------------------------------------------------------ */

  function niceCeil(x, integer) {
    if (!(x > 0)) return 1;
    var steps = integer ? [1, 2, 4, 6, 8, 10] : [1, 2, 2.5, 5, 10];
    var p = Math.pow(10, Math.floor(Math.log(x) / Math.LN10));
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= x - 1e-9) return steps[i] * p;
    return 10 * p;
  }

  function medianStep(data) {
    var d = [];
    for (var i = 1; i < data.length; i++) d.push(data[i].t - data[i - 1].t);
    if (!d.length) return 0;
    d.sort(function (a, b) { return a - b; });
    return d[d.length >> 1];
  }

  function timeLabel(ms) {
    var s = Math.round(ms / 1000);
    if (s === 0) return 'now';
    if (s % 60 === 0 && s >= 120) return '\u2212' + s / 60 + ' min';
    return '\u2212' + s + ' s';
  }

  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(function () { drawPending = false; draw(); });
  }

  function draw() {
    var box = canvas.parentNode;
    var w = box.clientWidth, h = box.clientHeight;
    var dpr = window.devicePixelRatio || 1;
    var pw = Math.max(1, Math.round(w * dpr)), ph = Math.max(1, Math.round(h * dpr));
    if (canvas.width !== pw || canvas.height !== ph) {
      canvas.width = pw;
      canvas.height = ph;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    if (w < 50 || h < 50) { document.body.dataset.points = '0'; return; }

    var vis = SERIES.filter(function (s) { return !s.hidden; });
    var tMin = Infinity, tMax = -Infinity, points = 0;
    vis.forEach(function (s) {
      if (!s.data.length) return;
      tMin = Math.min(tMin, s.data[0].t);
      tMax = Math.max(tMax, s.data[s.data.length - 1].t);
    });
    var have = tMax >= tMin;
    var span = have ? Math.max(tMax - tMin, 1) : 1;

    var L = 52, R = 18, T = 4, B = 24, GAP = 26;
    var pwid = w - L - R;
    var lanes = Math.max(vis.length, 1);
    var laneH = (h - T - B - GAP * (lanes - 1)) / lanes;
    var xOf = function (t) { return have && tMax > tMin ? L + (t - tMin) / span * pwid : L + pwid; };

    ctx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    ctx.textBaseline = 'middle';

    // vertical time grid, shared by the lanes
    var ticks = [];
    if (have && tMax > tMin) {
      var want = Math.max(2, Math.floor(pwid / 110));
      var steps = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
      var step = steps[steps.length - 1] * 1000;
      for (var i = 0; i < steps.length; i++) {
        if (span / (steps[i] * 1000) <= want) { step = steps[i] * 1000; break; }
      }
      for (var back = 0; back <= span + 1; back += step) ticks.push(tMax - back);
    }
    ctx.fillStyle = '#6b7280';
    ctx.textAlign = 'center';
    ticks.forEach(function (t, k) {
      var x = xOf(t);
      if (k === 0) { ctx.textAlign = 'right'; x = Math.min(x + 2, w - 2); }
      else ctx.textAlign = 'center';
      if (x - 20 > L - 10) ctx.fillText(timeLabel(tMax - t), x, h - B / 2 + 2);
    });

    vis.forEach(function (s, li) {
      var y0 = T + li * (laneH + GAP), y1 = y0 + laneH;
      var top = y0 + 20;                       // room for the lane title
      if (li) {                                // a rule between lanes
        ctx.strokeStyle = '#d9dde5';
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(8, Math.round(y0 - GAP / 2) + 0.5);
        ctx.lineTo(w - 8, Math.round(y0 - GAP / 2) + 0.5);
        ctx.stroke();
      }
      var data = s.data;
      var vmax = s.max;
      if (!vmax) {
        var m = 0;
        data.forEach(function (p) { if (p.v > m) m = p.v; });
        vmax = niceCeil(Math.max(m * 1.1, s.floor || 1), s.integer);
        if (s.cap) vmax = Math.min(vmax, s.cap);
      }
      var yOf = function (v) { return y1 - Math.max(0, Math.min(1, v / vmax)) * (y1 - top); };

      // time grid, then the value grid with its labels
      ctx.strokeStyle = '#eef0f4';
      ctx.lineWidth = 1;
      ticks.forEach(function (t) {
        var x = Math.round(xOf(t)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, y1);
        ctx.stroke();
      });
      ctx.strokeStyle = '#e5e7eb';
      ctx.lineWidth = 1;
      ctx.textAlign = 'right';
      ctx.fillStyle = '#6b7280';
      [0, 0.5, 1].forEach(function (f) {
        var v = vmax * f, y = Math.round(yOf(v)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(L, y);
        ctx.lineTo(w - R, y);
        ctx.stroke();
        ctx.fillText(String(+v.toFixed(2)), L - 8, y);
      });

      // lane title: name and the newest value
      ctx.textAlign = 'left';
      ctx.font = '600 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
      ctx.fillStyle = s.color;
      var title = s.label + (data.length ? '  ' + s.fmt(data[data.length - 1].v) : '');
      ctx.fillText(title, L + 6, y0 + 9);
      ctx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

      if (!data.length) {
        ctx.fillStyle = '#9ca3af';
        ctx.textAlign = 'center';
        ctx.fillText('waiting for data\u2026', L + pwid / 2, (top + y1) / 2);
        return;
      }

      // a gap of more than three usual steps breaks the line
      var gapMs = (medianStep(data) || span) * 3;
      var runs = [], run = [];
      data.forEach(function (p, k) {
        if (k && p.t - data[k - 1].t > gapMs) { runs.push(run); run = []; }
        run.push(p);
      });
      runs.push(run);
      points += data.length;

      ctx.save();
      ctx.beginPath();
      ctx.rect(L, y0, pwid + 1, y1 - y0 + 1);
      ctx.clip();
      var grad = ctx.createLinearGradient(0, top, 0, y1);
      grad.addColorStop(0, s.color + '40');
      grad.addColorStop(1, s.color + '05');
      runs.forEach(function (r) {
        if (r.length < 2) return;
        ctx.beginPath();
        ctx.moveTo(xOf(r[0].t), y1);
        r.forEach(function (p) { ctx.lineTo(xOf(p.t), yOf(p.v)); });
        ctx.lineTo(xOf(r[r.length - 1].t), y1);
        ctx.closePath();
        ctx.fillStyle = grad;
        ctx.fill();
      });
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.lineJoin = 'round';
      ctx.lineCap = 'round';
      runs.forEach(function (r) {
        ctx.beginPath();
        r.forEach(function (p, k) {
          var x = xOf(p.t), y = yOf(p.v);
          if (k) ctx.lineTo(x, y); else ctx.moveTo(x, y);
        });
        if (r.length === 1) ctx.lineTo(xOf(r[0].t) + 0.1, yOf(r[0].v));
        ctx.stroke();
      });
      ctx.restore();

      var last = data[data.length - 1];
      ctx.beginPath();
      ctx.arc(xOf(last.t), yOf(last.v), 3.5, 0, 2 * Math.PI);
      ctx.fillStyle = '#fff';
      ctx.fill();
      ctx.lineWidth = 2;
      ctx.strokeStyle = s.color;
      ctx.stroke();
    });

    if (!vis.length) {
      ctx.fillStyle = '#9ca3af';
      ctx.textAlign = 'center';
      ctx.fillText('every series is hidden: click the legend', w / 2, h / 2);
    }
    document.body.dataset.points = String(points);
  }

  /* ---- start ------------------------------------------------------------ */

  $('host').textContent = base ? base.replace(/^https?:\/\//, '') : location.host;
  window.addEventListener('resize', scheduleDraw);
  if (window.ResizeObserver) new ResizeObserver(scheduleDraw).observe(canvas.parentNode);
  setInterval(updateRate, 500);
  document.body.dataset.points = '0';
  connect();
  scheduleDraw();
})();

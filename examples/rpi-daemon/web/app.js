// ssedge-rpi dashboard: fills the cards from "stats" events; EventSource
// reconnects by itself and resumes with Last-Event-ID.
'use strict';
const $ = (id) => document.getElementById(id);
const HISTORY = 120;
const series = { temp: [], load: [] };
let opened = 0;

function push(name, v) {
  const s = series[name];
  s.push(v);
  if (s.length > HISTORY) s.shift();
}

function draw(name) {
  const c = $(name + '-chart'), s = series[name].filter((v) => v !== null);
  const w = c.width = c.clientWidth * devicePixelRatio;
  const h = c.height = c.clientHeight * devicePixelRatio;
  const g = c.getContext('2d');
  g.clearRect(0, 0, w, h);
  if (s.length < 2) return;
  let lo = Math.min(...s), hi = Math.max(...s);
  if (hi - lo < 1e-9) { lo -= 1; hi += 1; }
  g.strokeStyle = '#2f6fba';
  g.lineWidth = devicePixelRatio;
  g.beginPath();
  s.forEach((v, i) => {
    // newest at the right edge; the line grows leftwards over HISTORY events
    const x = w - ((s.length - 1 - i) / (HISTORY - 1)) * w;
    const y = h - ((v - lo) / (hi - lo)) * (h - 2) - 1;
    if (i) g.lineTo(x, y); else g.moveTo(x, y);
  });
  g.stroke();
}

function duration(s) {
  const d = Math.floor(s / 86400), hms = new Date((s % 86400) * 1000).toISOString().slice(11, 19);
  return (d ? d + 'd ' : '') + hms;
}

// A daemon started with --token wants it: the page passes on its own
// ?token= (EventSource cannot send an Authorization header).
const token = new URLSearchParams(location.search).get('token');
const es = new EventSource('/events' + (token ? '?token=' + encodeURIComponent(token) : ''));
es.onopen = () => {
  if (opened++) $('reconnects').textContent = opened - 1;
  $('state').textContent = 'live'; $('state').className = 'open';
};
es.onerror = () => { $('state').textContent = 'reconnecting'; $('state').className = 'closed'; };
es.addEventListener('stats', (e) => {
  const d = JSON.parse(e.data);
  $('last-id').textContent = e.lastEventId;
  $('temp').textContent = d.temp_c === null ? 'n/a' : d.temp_c.toFixed(1) + ' °C';
  push('temp', d.temp_c);
  $('load').textContent = d.load ? d.load.map((v) => v.toFixed(2)).join(' / ') : 'n/a';
  push('load', d.load ? d.load[0] : null);
  if (d.mem) {
    const used = d.mem.total_kb - d.mem.available_kb;
    $('mem').textContent = (100 * used / d.mem.total_kb).toFixed(1) + ' %';
    $('mem-detail').textContent = (used / 1024).toFixed(0) + ' of ' +
      (d.mem.total_kb / 1024).toFixed(0) + ' MiB';
  }
  $('uptime').textContent = d.uptime_s === null ? 'n/a' : duration(d.uptime_s);
  draw('temp'); draw('load');
});

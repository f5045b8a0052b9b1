// tests/hub/es_sub.mjs: one EventSource subscriber (the `eventsource` package pinned in tests/e2e, from its node_modules) that prints every event it gets, one line each, for tests/hub/*.sh.
//
//   node tests/hub/es_sub.mjs URL MAX_SECONDS NAME...
//
// Listens for the events named NAME (an EventSource dispatches a named event
// only to its listeners) and prints, as they happen:
//   open                      the stream is open (again, after a reconnect)
//   event NAME ID DATA        one event; ID is its lastEventId, DATA one line
//   error MESSAGE             a failed or lost connection (it reconnects by
//                             itself, sending Last-Event-ID, as a browser does)
//   closed                    the source gave up (readyState CLOSED)
// Ends after MAX_SECONDS, or on SIGTERM/SIGINT, with exit status 0.

import { createRequire } from 'node:module';

const [url, maxS, ...names] = process.argv.slice(2);
if (!url || !(Number(maxS) > 0) || names.length === 0) {
  console.error('usage: node es_sub.mjs URL MAX_SECONDS NAME...');
  process.exit(2);
}

const require = createRequire(new URL('../e2e/package.json', import.meta.url));
let EventSource;
try {
  ({ EventSource } = require('eventsource'));
} catch (e) {
  console.error(`es_sub: no eventsource package in tests/e2e/node_modules (cd tests/e2e && npm ci): ${e.message}`);
  process.exit(3);
}

const out = (line) => process.stdout.write(line + '\n');
const es = new EventSource(url);
es.addEventListener('open', () => out('open'));
es.addEventListener('error', (e) => {
  out(`error ${String(e.message ?? e.code ?? 'connection').replace(/\s+/g, ' ')}`);
  if (es.readyState === EventSource.CLOSED) out('closed');
});
for (const name of names) {
  es.addEventListener(name, (e) => {
    out(`event ${e.type} ${e.lastEventId || '-'} ${String(e.data).replace(/\n/g, '\\n')}`);
  });
}

const stop = () => {
  es.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(maxS) * 1000);

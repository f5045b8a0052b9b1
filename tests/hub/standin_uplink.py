#!/usr/bin/env python3
# tests/hub/standin_uplink.py: stands in for `telemetry --uplink` until sse_uplink lands: runs the real telemetry example and relays every event it publishes to the hub over one keep-alive connection, store-and-forward.
"""
  tests/hub/standin_uplink.py [telemetry flags...] --uplink URL
                              [--uplink-token TOKEN] [--uplink-ca PEM]

The same command line as the real thing (build/bin/telemetry --uplink ...), so
tests/hub/hub_test.sh swaps one for the other with one variable (HUB_DEVICE).
Every other flag goes to telemetry (HUB_TELEMETRY, default build/bin/telemetry
of this tree), whose line "telemetry: http://H:P/ ..." is printed as is.

The relay reads telemetry's own stream (/events?ch=load,mem,clients: what
telemetry publishes, all but the "message: hello" its connection timer sends
to that stream alone; ids start after Last-Event-ID, the cursor, so a
reconnect resumes from ssedge's ring) and POSTs each event to URL over one
keep-alive connection, as sse_uplink will: data as the body,
"X-EventSource-Event: NAME", "Authorization: Bearer TOKEN" when given, the
server's certificate checked against PEM for https. An event is sent again
until it is answered 2xx (each try at most 3 s, 0.2 s apart; a failed
connection is opened again), then the next one: in order, none skipped unless
it failed for HUB_STANDIN_GIVEUP_S (120 s).

On SIGTERM/SIGINT it stops telemetry and prints
  uplink posted=N resent=R ambiguous=A gave_up=G cursor=ID
posted: events answered 2xx; resent: of those, how many needed more than one
try; ambiguous: tries that failed after the whole request was sent and before
an answer came (the hub may have stored it: the only tries that can make a
duplicate); gave_up: events skipped; cursor: the last id relayed.
Exit 2: bad flag; 1: telemetry did not start.

HUB_STANDIN_STREAM=URL relays the stream of a device that runs already (the
lwIP example over a tap link) instead of starting telemetry; the other flags
are then ignored. HUB_STANDIN_SKIP lists event names not relayed (default
"message": telemetry's per-connection "hello").
"""
import http.client
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

ME = 'standin_uplink'
HERE = os.path.dirname(os.path.abspath(__file__))
stopping = False


def on_signal(_sig, _frame):
    global stopping
    stopping = True


def die(msg, code):
    print(f'{ME}: {msg}', file=sys.stderr)
    sys.exit(code)


class Hub:
    """One keep-alive connection to the publish URL, opened again as needed."""

    def __init__(self, url, token, ca):
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ('http', 'https') or not u.hostname:
            die(f"--uplink needs an http:// or https:// URL (got '{url}')", 2)
        self.https = u.scheme == 'https'
        self.host = u.hostname
        self.port = u.port or (443 if self.https else 80)
        self.path = u.path or '/'
        self.headers = {'Content-Type': 'text/plain'}
        if token:
            self.headers['Authorization'] = f'Bearer {token}'
        self.ctx = ssl.create_default_context(cafile=ca) if self.https else None
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def post(self, name, data):
        """'ok', 'fail' (not stored) or 'ambiguous' (maybe stored), detail."""
        if self.conn is None:
            if self.https:
                self.conn = http.client.HTTPSConnection(self.host, self.port, timeout=3,
                                                        context=self.ctx)
            else:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=3)
            try:
                self.conn.connect()
            except OSError as e:
                self.close()
                return 'fail', f'connect: {e}'
        try:
            self.conn.request('POST', self.path, body=data.encode(),
                              headers={**self.headers, 'X-EventSource-Event': name})
        except OSError as e:
            self.close()
            return 'fail', f'send: {e}'
        try:
            r = self.conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return 'ambiguous', f'no answer: {e!r}'
        if r.will_close:
            self.close()
        if 200 <= r.status < 300:
            return 'ok', str(r.status)
        return 'fail', f'HTTP {r.status}'


def main():
    args = sys.argv[1:]
    url = token = ca = None
    targs = []
    i = 0
    while i < len(args):
        if args[i] in ('--uplink', '--uplink-token', '--uplink-ca'):
            if i + 1 >= len(args):
                die(f'{args[i]} needs a value', 2)
            v = args[i + 1]
            if args[i] == '--uplink':
                url = v
            elif args[i] == '--uplink-token':
                token = v
            else:
                ca = v
            i += 2
        else:
            targs.append(args[i])
            i += 1
    if not url:
        die('--uplink URL is required', 2)
    if ca and not os.access(ca, os.R_OK):
        die(f'--uplink-ca: cannot read {ca}', 2)
    hub = Hub(url, token, ca)
    giveup_s = float(os.environ.get('HUB_STANDIN_GIVEUP_S', '120'))
    skip = set(os.environ.get('HUB_STANDIN_SKIP', 'message').split())

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    counts = {'posted': 0, 'resent': 0, 'ambiguous': 0, 'gave_up': 0}
    cursor = '0'
    tele = None
    out = None
    stream_url = os.environ.get('HUB_STANDIN_STREAM', '')
    try:
        if not stream_url:
            telemetry = os.environ.get('HUB_TELEMETRY',
                                       os.path.join(HERE, '../../build/bin/telemetry'))
            if not os.access(telemetry, os.X_OK):
                die(f'no telemetry at {telemetry} (make)', 1)
            out = tempfile.NamedTemporaryFile(prefix='hub-standin.', mode='w+')
            tele = subprocess.Popen([telemetry] + targs, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            local = None
            for _ in range(50):
                out.seek(0)
                m = re.search(r'^telemetry: (http://\S+/) ', out.read(), re.M)
                if m:
                    local = m.group(1)
                    break
                if tele.poll() is not None:
                    break
                time.sleep(0.1)
            out.seek(0)
            sys.stdout.write(out.read())
            sys.stdout.flush()
            if not local:
                die('telemetry did not start', 1)
            stream_url = local + 'events?ch=load,mem,clients'
        s = urllib.parse.urlsplit(stream_url)
        spath = s.path + ('?' + s.query if s.query else '')

        def post(name, data):
            tries = 0
            end = time.monotonic() + giveup_s
            while not stopping:
                tries += 1
                verdict, detail = hub.post(name, data)
                if verdict == 'ok':
                    counts['posted'] += 1
                    counts['resent'] += tries > 1
                    return True
                if verdict == 'ambiguous':
                    counts['ambiguous'] += 1
                if time.monotonic() >= end:
                    print(f'{ME}: gave up on an event after {tries} tries ({detail})',
                          file=sys.stderr)
                    counts['gave_up'] += 1
                    return True
                time.sleep(0.2)
            return False

        # The relay: one local stream at a time, resumed from the cursor.
        for _ in range(1000):
            if stopping or (tele is not None and tele.poll() is not None):
                break
            try:
                sock = socket.create_connection((s.hostname, s.port or 80), timeout=2)
                sock.sendall((f'GET {spath} HTTP/1.1\r\nHost: {s.netloc}\r\n'
                              f'Accept: text/event-stream\r\nLast-Event-ID: {cursor}\r\n\r\n')
                             .encode())
            except OSError:
                time.sleep(0.2)
                continue
            sock.settimeout(1)
            buf = b''
            head = True
            name, eid, data = '', '', None
            deadline = time.monotonic() + 3600
            while not stopping and time.monotonic() < deadline:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    break
                if not chunk:
                    break
                buf += chunk
                while b'\n' in buf and not stopping:
                    raw, buf = buf.split(b'\n', 1)
                    line = raw.rstrip(b'\r').decode('utf-8', 'replace')
                    if head:
                        head = line != ''
                        continue
                    if line == '':
                        if eid and data is not None:
                            if (name or 'message') not in skip:
                                if not post(name or 'message', data):
                                    break
                            cursor = eid
                        name, eid, data = '', '', None
                    elif line.startswith('event:'):
                        name = line[6:].removeprefix(' ')
                    elif line.startswith('id:'):
                        eid = line[3:].removeprefix(' ')
                    elif line.startswith('data:'):
                        v = line[5:].removeprefix(' ')
                        data = v if data is None else data + '\n' + v
            sock.close()
            if not stopping:
                time.sleep(0.2)
    finally:
        hub.close()
        if tele is not None:
            tele.terminate()
            try:
                tele.wait(8)
            except subprocess.TimeoutExpired:
                tele.kill()
                tele.wait()
        if out is not None:
            out.close()
        print(f"uplink posted={counts['posted']} resent={counts['resent']} "
              f"ambiguous={counts['ambiguous']} gave_up={counts['gave_up']} cursor={cursor}",
              flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

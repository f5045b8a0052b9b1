#!/usr/bin/env python3
# The lwIP host suite's connect/disconnect cycles, as one client process.
#
#   cycles.py IP PORT CYCLES OVERLOAD_RETRY TALLY_FILE
#
# Odd cycles open a stream and leave it after "retry: 3000" with unread
# data (the close is a reset); even ones send a plain request and read the
# answer to its end (the server closes first). A cycle that gets the
# overload answer (both slots still held) tries again, so each ends up
# holding a slot of its own. Each request goes out in one write (pieces
# would meet Nagle on Linux's side and lwIP's delayed ACK).
#
# A connect that lwIP leaves unanswered for 2 s is given up and tried again,
# counted as "stuck": lwIP 2.1 keeps a connection it closed first in
# TIME_WAIT for 2 x TCP_MSL (2 min in Debian's build) and answers a new SYN
# from the same client port with a bare ACK, not a SYN-ACK, until then
# (Linux would take the new connection); Linux may pick that port again.
#
# The tally (done bad busy stuck slowest slowest_ms) is rewritten after
# every try, so a run cut by its time limit still says how far it got.
import socket
import sys
import time

ip, port, cycles, ovl, tally = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
SREQ = b"GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"
PREQ = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
done = bad = busy = stuck = 0
slow_us, slow = 0, "none"


def write():
    with open(tally, "w") as f:
        f.write(f"{done} {bad} {busy} {stuck} {slow} {slow_us // 1000}\n")


def stream(s):
    f = s.makefile("rb")
    try:
        for _ in range(8):
            line = f.readline()
            if line.startswith(b"retry: 3000"):
                return "ok"
            if line.startswith(b"retry: " + ovl.encode()):
                return "busy"
            if not line:
                break
    finally:
        f.close()
    return "bad"


def plain(s):
    body = b""
    while True:
        d = s.recv(4096)
        if not d:
            break
        body += d
    if body.startswith(b"HTTP/1.1 200 OK") and body.endswith(b"ok\n"):
        return "ok"
    if body.startswith(b"HTTP/1.1 503"):
        return "busy"
    return "bad"


for i in range(1, cycles + 1):
    for attempt in range(1, 101):
        t0 = time.monotonic()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            s.connect((ip, port))
        except socket.timeout:
            stuck += 1
            s.close()
            write()
            continue
        except OSError:
            bad += 1
            s.close()
            write()
            time.sleep(0.05)
            continue
        s.settimeout(3)
        try:
            s.sendall(SREQ if i % 2 else PREQ)
            res = stream(s) if i % 2 else plain(s)
        except OSError:
            res = "bad"
        s.close()
        t = int((time.monotonic() - t0) * 1e6)
        if t > slow_us:
            slow_us, slow = t, f"cycle-{i}-try-{attempt}-{res}"
        if res == "ok":
            done += 1
        elif res == "busy":
            busy += 1
        else:
            bad += 1
        write()
        if res != "busy":
            break
        time.sleep(0.05)  # a stream's end is noticed within --idle-check-ms

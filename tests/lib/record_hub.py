#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# A stand-in hub for uplink tests: answers every POST 201 over HTTP/1.1
# keep-alive (as nchan does) and appends one JSON line per POST to FILE:
# path, Authorization, X-EventSource-Event and the body. Prints "port N"
# once it listens on 127.0.0.1 (a port the OS picks).
# Usage: record_hub.py FILE
import http.server
import json
import sys


class Hub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        rec = {"path": self.path, "auth": self.headers.get("Authorization"),
               "event": self.headers.get("X-EventSource-Event"),
               "data": body.decode("utf-8", "replace")}
        with open(sys.argv[1], "a") as f:
            f.write(json.dumps(rec) + "\n")
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Hub)
print("port", srv.server_address[1], flush=True)
srv.serve_forever()

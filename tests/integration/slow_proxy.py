#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""slow_proxy.py UPSTREAM DELAY_S PORTFILE - an HTTP proxy on 127.0.0.1 in
front of a registry (UPSTREAM: host:port) that waits DELAY_S seconds before
each blob request (/v2/<name>/blobs/...), and forwards the rest at once: a
slow registry for the pull tests.  Writes its port to PORTFILE."""
import http.client
import http.server
import sys
import time

UP, DELAY, PORTFILE = sys.argv[1], float(sys.argv[2]), sys.argv[3]
HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        if "/blobs/" in self.path:
            time.sleep(DELAY)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        c = http.client.HTTPConnection(UP, timeout=60)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "host"}
        hdrs["Host"] = UP
        c.request(self.command, self.path, body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        # A HEAD's length is the upstream's (the body it did not send).
        self.send_header("Content-Length", r.getheader("Content-Length", "0")
                         if self.command == "HEAD" else str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        c.close()

    do_GET = do_HEAD = do_POST = do_PUT = forward

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os  # noqa: E402
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()

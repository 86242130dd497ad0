# SPDX-License-Identifier: Apache-2.0
# An OTLP/HTTP receiver for t_watch: 127.0.0.1 only, answers every
# POST /v1/traces with 200 and appends each request's trace ids (one line
# per request, space-separated) to OUT, until it is stopped.
#   otlp_sink.py PORT OUT
import http.server, json, sys

port, out = int(sys.argv[1]), sys.argv[2]

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(n))
        ids = sorted({s["traceId"] for rs in body.get("resourceSpans", [])
                      for ss in rs.get("scopeSpans", []) for s in ss.get("spans", [])})
        with open(out, "a") as f:
            f.write(" ".join(ids) + "\n")
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.end_headers()
    def log_message(self, *a):
        pass

srv = http.server.HTTPServer(("127.0.0.1", port), H)
open(out + ".ready", "w").close()
srv.serve_forever()

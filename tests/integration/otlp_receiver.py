# SPDX-License-Identifier: Apache-2.0
# A small OTLP/HTTP receiver for t_export_post: 127.0.0.1 only, answers
# POST /v1/traces with 200 (or the status given), saves the body, and stops
# after one request (or 20 s).
import http.server, sys, threading

port, out, status = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(out, "wb") as f:
            f.write(body)
        with open(out + ".meta", "w") as f:
            f.write("%s %s %s\n" % (self.path, self.headers.get("Content-Type"), n))
        self.send_response(status)
        self.end_headers()
        threading.Thread(target=self.server.shutdown).start()
    def log_message(self, *a):
        pass

srv = http.server.HTTPServer(("127.0.0.1", port), H)
open(out + ".ready", "w").close()
stop = threading.Timer(20, srv.shutdown)
stop.daemon = True
stop.start()
srv.serve_forever()

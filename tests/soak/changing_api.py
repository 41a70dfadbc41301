#!/usr/bin/env python3
"""A loopback JSON API whose records keep changing: GET /<source>?page=N.

Each source starts with BASE records and gains one more every GROW seconds (up to MAX); every
CHANGE seconds a seventh of its records get a new version. Pages hold 50 records. Prints
"port N" once it listens.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

BASE, GROW, MAX, CHANGE, PAGE = 150, 2.0, 400, 5.0, 50
STARTED = time.monotonic()
WORDS = ("harbor lantern meadow copper violet thunder orchard glacier willow ember canyon "
         "falcon mosaic quartz saffron tundra velvet zephyr").split()


def records_of(source):
    elapsed = time.monotonic() - STARTED
    count = min(MAX, BASE + int(elapsed / GROW))
    epoch = int(elapsed / CHANGE)
    for n in range(1, count + 1):
        version = epoch if n % 7 == epoch % 7 else 0
        yield {"id": n, "n": n, "source": source, "version": version,
               "title": f"record {n} of {source}",
               "body": " ".join(WORDS[(n * k + version) % len(WORDS)] for k in range(1, 9))}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urlparse(self.path)
        page = int(parse_qs(url.query).get("page", ["1"])[0])
        records = list(records_of(url.path.strip("/")))
        body = json.dumps({"items": records[(page - 1) * PAGE:page * PAGE]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("port", server.server_address[1], flush=True)
server.serve_forever()

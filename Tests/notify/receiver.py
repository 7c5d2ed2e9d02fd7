#!/usr/bin/python3
"""A webhook receiver for NotifyTests: records every request and checks its signature (stdlib only).

    receiver.py --record FILE --port-file FILE [--secret S] [--delay SECONDS] [--status CODE]

Listens on 127.0.0.1 on a free port and writes the port to --port-file once it listens. Each request is
appended to --record as one JSON line as soon as it arrives (path, headers, body, and whether the
X-Sandbox-Signature-256 header is the HMAC-SHA256 of the body keyed with --secret); then the receiver
waits --delay seconds (a slow receiver) and answers --status.
"""
import argparse
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def expected_signature(secret: bytes, body: bytes) -> str:
    """What docs/notifications.md tells receivers to compare the header with."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--record", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--secret")
    parser.add_argument("--delay", type=float, default=0)
    parser.add_argument("--status", type=int, default=204)
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            signature = self.headers.get("X-Sandbox-Signature-256")
            valid = None
            expected = None
            if args.secret is not None:
                expected = expected_signature(args.secret.encode(), body)
                valid = signature is not None and hmac.compare_digest(expected, signature)
            record = {"path": self.path, "headers": dict(self.headers.items()), "body": body.decode("utf-8", "replace"),
                      "expectedSignature": expected, "signatureValid": valid, "received": time.time()}
            with lock, open(args.record, "a", encoding="utf-8") as f:
                f.write(json.dumps(record, sort_keys=True) + "\n")
            time.sleep(args.delay)
            self.send_response(args.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    temp = args.port_file + ".tmp"
    with open(temp, "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(temp, args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()

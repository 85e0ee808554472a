"""A small HTTP server for probe tests, on 127.0.0.1 only."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

LOCAL = "127.0.0.1"


class Handler(http.server.BaseHTTPRequestHandler):
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        Handler.seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
        if self.path.startswith("/slow"):
            time.sleep(2)
        status = {"/fail": 500, "/missing": 404, "/moved": 302}.get(self.path, 200)
        host, port = self.server.server_address[:2]
        body = b"ok\n"
        try:
            self.send_response(status)
            if status == 302:
                # Back to this server: a probe that followed it would be seen here.
                self.send_header("Location", f"http://{host}:{port}/followed")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the probe gave up (timeout): nothing to answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def serve(server: http.server.ThreadingHTTPServer) -> Iterator[int]:
    server.daemon_threads = True
    server.block_on_close = False  # a slow answer still sleeping must not hold the test up
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

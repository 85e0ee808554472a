"""A small HTTP server for probe tests, on 127.0.0.1 only."""

from __future__ import annotations

import http.server
import socket
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


# Hostile servers: each accepts connections on 127.0.0.1 and answers as named, holding a
# client as long as it lets itself be held: (sent at once, then sent one byte a second).
HOSTILE = {
    # The status line and headers one byte a second, never finished.
    "trickle": (b"", b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000),
    # Headers as fast as the client reads them, never finished.
    "endless-headers": (b"HTTP/1.1 200 OK\r\n" + b"X-More: yes\r\n" * 100000, b""),
    # Good headers, then a promised body one byte a second.
    "trickle-body": (b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", b"a" * 1000),
    # Connects, then says nothing.
    "silent": (b"", b""),
}


def hostile(mode: str) -> Iterator[int]:
    """A port where a server answers every connection the `mode` way (see HOSTILE)."""
    at_once, trickled = HOSTILE[mode]
    listener = socket.socket()
    listener.bind((LOCAL, 0))
    listener.listen(16)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)  # the request
                conn.sendall(at_once)
                for i in range(len(trickled)):
                    if stop.wait(1 if i else 0):
                        return
                    conn.sendall(trickled[i:i + 1])
                stop.wait(30)
            except OSError:
                pass  # the client gave up

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()

"""A webhook receiver for the tests: a real HTTP server on 127.0.0.1, on a free port, that records every POST and
answers the statuses it is told to (500 to the first POST, for instance, then 200). Stops with its ``with`` block."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


class Received(NamedTuple):
    path: str
    headers: dict
    body: bytes
    answered: int


class Receiver:
    def __init__(self, answers=(500,), then: int = 200):
        self._answers, self._then = list(answers), then
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    status = receiver._answers.pop(0) if receiver._answers else receiver._then
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/cartes"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._server.shutdown()
        self._server.server_close()

    def delivered(self) -> list[Received]:
        """The POSTs answered with a 2xx."""
        with self._lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Waits until ``count`` POSTs were answered with a 2xx (or the timeout), and returns them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.delivered()) < count:
            time.sleep(0.1)
        return self.delivered()

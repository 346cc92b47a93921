"""A real webhook receiver on 127.0.0.1 (one of this suite's ports), answering a scripted list of statuses."""

import contextlib
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTS = range(8210, 8240)


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, statuses, hold):
        super().__init__(address, Handler)
        self.statuses = list(statuses)
        self.hold = hold
        self.received: list[Received] = []
        self.arrived = threading.Event()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/hooks"


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(Received(self.path, dict(self.headers), body))
        self.server.arrived.set()
        if self.server.hold is not None:
            self.server.hold.wait(30)
        status = self.server.statuses.pop(0) if self.server.statuses else 200
        answer = b"x" * 5000 if status == 299 else f"answer {status}".encode()
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def receiver(statuses=(), hold: threading.Event | None = None):
    """A receiver answering `statuses` in turn, then 200; while `hold` is unset each request waits on it."""
    for port in PORTS:
        try:
            server = Receiver(("127.0.0.1", port), statuses, hold)
            break
        except OSError:
            continue
    else:
        raise RuntimeError(f"no free port in {PORTS}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        if hold is not None:
            hold.set()
        server.shutdown()
        server.server_close()

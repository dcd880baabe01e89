"""A real HTTP receiver on 127.0.0.1 that records what webhooks POST to it."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes


class Receiver:
    """Answers 200, except `fail_status` to the first `fail_first` requests; waits `delay`
    seconds before answering."""

    def __init__(self, *, fail_first: int = 0, fail_status: int = 500, delay: float = 0) -> None:
        self.fail_first, self.fail_status, self.delay = fail_first, fail_status, delay
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append(
                        Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                    failing = len(receiver.requests) <= receiver.fail_first
                time.sleep(receiver.delay)
                status = receiver.fail_status if failing else 200
                answer = b"receiver says no" if failing else b"ok"
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"{len(self.requests)} requests arrived, expected {count}")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

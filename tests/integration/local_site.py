"""A small HTTP site on 127.0.0.1 for the fetch and ingest tests: articles, a feed, redirects and
answers that misbehave on request (429, huge, a compression bomb, a dribble)."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARTICLE_PARAGRAPHS = [
    "The night train between Harda and Vennmark will run again from June, the rail company said, "
    "after two years in which the line was closed for tunnel repairs.",
    "Sleeper cabins have been rebuilt with wider berths, and the company expects most trains to be "
    "full in the summer months, when the mountain road is crowded.",
    "Tickets go on sale next week; a seat costs the same as before the closure, while a berth costs "
    "a little more because of the new cabins.",
]
BOMB = gzip.compress(b"\0" * 30_000_000)


def article_html(number: int) -> bytes:
    paragraphs = "".join(f"<p>{text} (story {number})</p>" for text in ARTICLE_PARAGRAPHS)
    return (
        f"<html><head><title>Night train returns {number}</title></head><body>"
        f"<article><h1>Night train returns {number}</h1>{paragraphs}</article></body></html>"
    ).encode()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client hanging up on a refused body (too large, too slow) is what the tests expect."""


class LocalSite:
    """A small site on 127.0.0.1 that misbehaves on request."""

    feed_etag = '"feed-v1"'

    def __init__(self) -> None:
        site = self
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_GET(self) -> None:
                site.requests.append(self.path)
                site.answer(self)

        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LocalSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>Night train returns {n}</title><link>{self.base}/article/{n}</link></item>" for n in (1, 2)
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Rail news</title>{items}</channel></rss>'.encode()
        )

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?", 1)[0]
        if path == "/feed.xml":
            if request.headers.get("If-None-Match") == self.feed_etag:
                self._send(request, 304, b"")
            else:
                self._send(request, 200, self.feed(), {"Content-Type": "application/rss+xml", "ETag": self.feed_etag})
        elif path.startswith("/article/"):
            self._send(request, 200, article_html(int(path.rsplit("/", 1)[1])), {"Content-Type": "text/html"})
        elif path == "/limited":
            self._send(request, 429, b"slow down", {"Retry-After": "7"})
        elif path == "/redirect":
            self._send(request, 302, b"", {"Location": "/article/1"})
        elif path == "/loop":
            self._send(request, 302, b"", {"Location": "/loop"})
        elif path == "/to-other-loopback":
            self._send(request, 302, b"", {"Location": f"http://127.0.0.2:{self.port}/article/1"})
        elif path == "/to-file":
            self._send(request, 302, b"", {"Location": "file:///etc/passwd"})
        elif path == "/big":
            self._send(request, 200, b"x" * (2 * 1024 * 1024), {"Content-Type": "text/html"})
        elif path == "/big-undeclared":
            request.send_response(200)
            request.send_header("Connection", "close")
            request.end_headers()
            for _ in range(40):
                request.wfile.write(b"x" * 65536)
        elif path == "/bomb":
            self._send(request, 200, BOMB, {"Content-Type": "text/html", "Content-Encoding": "gzip"})
        elif path == "/slow":
            request.send_response(200)
            request.send_header("Content-Length", "100")
            request.end_headers()
            for _ in range(100):
                request.wfile.write(b"x")
                request.wfile.flush()
                time.sleep(0.2)
        else:
            self._send(request, 404, b"not here")

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        request.send_response(status)
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        if body:
            request.wfile.write(body)

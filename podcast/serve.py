"""``podcast serve``: preview the site and feed on 127.0.0.1 the way a podcast host serves them.

Only ``feed/`` and ``episodes/`` are served, with the content types podcast
apps expect, HEAD, and byte ranges (``206 Partial Content``) so browsers can
seek and Apple's checks pass. Point ``[show] base_url`` at it to play the
feed end to end in a local app or browser.

It is only a preview, but one odd request must not knock it over: every
request gets an answer (400, 404, 416), idle connections time out, and the
listen backlog is large enough for a page that loads many files at once.
"""

from __future__ import annotations

import email.utils
import os
import re
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

TYPES = {
    ".xml": "application/rss+xml; charset=utf-8",
    ".mp3": "audio/mpeg",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".yaml": "text/yaml; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".json": "application/json",
}
ROOTS = ("feed", "episodes")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$", re.IGNORECASE)
_HUGE = 10**18  # any offset with more digits is past every file; int() refuses 5,000 digits
IDLE_TIMEOUT = 10.0  # seconds a connection may sit silent (or stall a download) before it is closed
BACKLOG = 1024  # socketserver's default of 5 drops connections when a page loads its files at once


def content_type(path: Path) -> str:
    if path.name == "chapters.json":
        return "application/json+chapters"
    return TYPES.get(path.suffix.lower(), "application/octet-stream")


def _offset(digits: str) -> int:
    return int(digits) if len(digits) <= 18 else _HUGE


def _request_path(target: str) -> str:
    """The decoded path of a request target; ``//feed/`` is a path here, not a host name."""
    if target.startswith("/"):
        return unquote(target.partition("?")[0].partition("#")[0])
    return unquote(urlsplit(target).path)  # absolute-form: http://host/path


def make_handler(root: Path, idle: float = IDLE_TIMEOUT) -> type[BaseHTTPRequestHandler]:
    base = root.resolve()

    class Handler(BaseHTTPRequestHandler):
        server_version = "podcast-preview"
        protocol_version = "HTTP/1.1"  # keep-alive and ranges, as players expect
        # StreamRequestHandler applies this to the socket: a silent client is dropped, not kept forever.
        timeout = idle

        def do_GET(self) -> None:
            self._serve(body=True)

        def do_HEAD(self) -> None:
            self._serve(body=False)

        def log_message(self, fmt: str, *args: object) -> None:
            if os.environ.get("PODCAST_SERVE_LOG"):
                super().log_message(fmt, *args)

        def _redirect(self, location: str) -> None:
            # Always one leading slash (a "//host" Location leaves the site) and percent-encoded
            # (a decoded CR/LF would inject headers; non-Latin-1 names cannot be sent as is).
            location = "/" + quote(location.lstrip("/"), safe="/")
            self.send_response(HTTPStatus.FOUND)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _serve(self, body: bool) -> None:
            url_path = _request_path(self.path)
            if any(ord(c) < 0x20 or c == "\x7f" for c in url_path):  # NUL makes os calls raise
                return self.send_error(HTTPStatus.BAD_REQUEST, "control character in path")
            if url_path.strip("/") == "":
                return self._redirect("/feed/index.html")
            parts = Path(url_path.lstrip("/")).parts
            try:
                path = (base / url_path.lstrip("/")).resolve()
                if (not parts or parts[0] not in ROOTS or any(p.startswith(".") for p in parts)
                        or not path.is_relative_to(base)):
                    return self.send_error(HTTPStatus.NOT_FOUND)
                if path.is_dir():
                    if not url_path.endswith("/"):  # relative links inside the page need the slash
                        return self._redirect(url_path + "/")
                    path = path / "index.html"
                if not path.is_file():
                    return self.send_error(HTTPStatus.NOT_FOUND)
                stat = path.stat()
            except (OSError, ValueError):  # a name too long for the file system, and the like
                return self.send_error(HTTPStatus.NOT_FOUND)
            size = stat.st_size
            start, end = 0, size - 1
            status = HTTPStatus.OK
            header = self.headers.get("Range", "").strip()
            # Several ranges get the whole file with 200, which RFC 9110 allows: players ask for one
            # range, and a multipart answer to many (overlapping) ranges would only amplify a request.
            if header.lower().startswith("bytes=") and "," not in header:
                m = _RANGE.match(header)
                if not m or (not m[1] and not m[2]):
                    return self._unsatisfiable(size)
                if m[1]:
                    start = _offset(m[1])
                    end = min(_offset(m[2]), size - 1) if m[2] else size - 1
                else:  # the last N bytes
                    start = max(0, size - _offset(m[2]))
                if start >= size or start > end:
                    return self._unsatisfiable(size)
                status = HTTPStatus.PARTIAL_CONTENT
            length = end - start + 1
            self.send_response(status)
            self.send_header("Content-Type", content_type(path))
            self.send_header("Content-Length", str(length))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
            self.send_header("Cache-Control", "no-cache")
            if status == HTTPStatus.PARTIAL_CONTENT:
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            self.end_headers()
            if not body:
                return
            with path.open("rb") as fh:
                fh.seek(start)
                remaining = length
                while remaining > 0:
                    chunk = fh.read(min(1 << 16, remaining))
                    if not chunk:
                        break
                    try:
                        self.wfile.write(chunk)
                    except OSError:  # the player moved on (seeking does this) or stalled past the timeout
                        self.close_connection = True
                        return
                    remaining -= len(chunk)

        def _unsatisfiable(self, size: int) -> None:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = BACKLOG  # the listen() backlog (the kernel caps it at somaxconn)
    daemon_threads = True


class PreviewServer:
    """A threaded server on 127.0.0.1 (port 0 picks a free one); usable as a context manager."""

    def __init__(self, root: Path, port: int = 8000, host: str = "127.0.0.1",
                 timeout: float = IDLE_TIMEOUT) -> None:
        self.httpd = _Server((host, port), make_handler(root, timeout))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"  # type: ignore[str-bytes-safe]  # AF_INET: a str

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def __enter__(self) -> PreviewServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

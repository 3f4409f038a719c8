"""The preview server answers every odd request, never leaves the site, and keeps up with a burst."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from podcast.serve import PreviewServer

BODY = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PreviewServer, int]]:
    root = tmp_path_factory.mktemp("serve")
    (root / "feed").mkdir()
    (root / "feed" / "index.html").write_text("<p>show</p>", "utf-8")
    (root / "episodes" / "2026-11-20").mkdir(parents=True)
    (root / "episodes" / "2026-11-20" / "a.mp3").write_bytes(BODY)
    with PreviewServer(root, port=0, timeout=0.5) as srv:
        yield srv, srv.httpd.server_address[1]


def raw(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    """Send bytes as they are (urllib would refuse or clean them) and read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


def get(port: int, path: str, *headers: str) -> tuple[int, dict[str, str], bytes]:
    lines = [f"GET {path} HTTP/1.1", "Host: x", "Connection: close", *headers, "", ""]
    data = raw(port, "\r\n".join(lines).encode("latin-1"))
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *fields = head.decode("latin-1").split("\r\n")
    return int(status_line.split()[1]), dict(f.split(": ", 1) for f in fields), body


MP3 = "/episodes/2026-11-20/a.mp3"


def test_a_nul_byte_in_the_path_gets_400(server) -> None:
    _, port = server
    assert get(port, "/feed/%00index.html")[0] == 400
    assert get(port, "/feed/\x00")[0] == 400
    assert get(port, "/feed/%0d%0aSet-Cookie:%20x")[0] == 400


def test_huge_ranges_get_an_answer(server) -> None:
    _, port = server
    status, headers, _ = get(port, MP3, "Range: bytes=" + "9" * 5000 + "-")
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(BODY)}"
    status, headers, body = get(port, MP3, "Range: bytes=10-" + "9" * 5000)
    assert status == 206 and body == BODY[10:]
    status, _, body = get(port, MP3, "Range: bytes=-" + "9" * 5000)
    assert status == 206 and body == BODY


def test_multiple_ranges_get_the_whole_file(server) -> None:
    _, port = server
    status, headers, body = get(port, MP3, "Range: bytes=0-1,5-9")
    assert status == 200 and body == BODY and "Content-Range" not in headers
    status, _, body = get(port, MP3, "Range: BYTES=2-3")
    assert status == 206 and body == BODY[2:4]
    status, _, body = get(port, MP3, "Range: pages=1-2")  # an unknown unit is ignored
    assert status == 200 and body == BODY


@pytest.mark.parametrize("path", ["//feed", "/%2Ffeed", "//%2Fexample.com/../feed", "/feed/%2F/..",
                                  "http://example.com//feed"])
def test_redirects_stay_on_the_site(server, path: str) -> None:
    _, port = server
    status, headers, _ = get(port, path)
    location = headers.get("Location", "")
    assert status in (302, 404), (status, location)
    assert status == 404 or (location.startswith("/") and not location.startswith("//"))


def test_slashes_before_the_path_are_not_a_host(server) -> None:
    _, port = server
    status, _, body = get(port, "//feed/")
    assert status == 200 and body == b"<p>show</p>"


def test_idle_connections_time_out(server) -> None:
    _, port = server
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"GET /feed/index.html HTTP/1.1\r\n")  # and then nothing more
        assert sock.recv(1024) == b""  # the server hung up
    assert time.monotonic() - start < 3


def test_a_burst_of_concurrent_requests_is_served(server) -> None:
    _, port = server
    n = 200
    barrier = threading.Barrier(n, timeout=20)
    results: list[bool] = []

    def one() -> None:
        try:
            barrier.wait()
            ok = raw(port, b"GET /feed/index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            results.append(ok.startswith(b"HTTP/1.1 200"))
        except (OSError, threading.BrokenBarrierError):
            results.append(False)

    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results.count(True) == n, f"{results.count(False)} of {n} failed"

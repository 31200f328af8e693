"""`http.deadline` holds over TLS for clients that wrap the socket themselves (http.client, urllib3).

Regression: the guard (core/netguard) held the socket object its connect hook saw; `ssl.wrap_socket` detaches
that object, so the watchdog's shutdown reached nothing. A server that completed the handshake, then trickled
its headers, ran as long as it liked for tweepy (`requests`), slack_sdk and webhooks (`urllib`) over https.
The guard now holds a duplicate descriptor of the connection. (After the cut, http.client may take the closed
connection for the end of the headers and return a "response": callers check `guard.fired`, as here.)"""

from __future__ import annotations

import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import requests
import trustme

from monitor.core.netguard import WATCHDOG
from tests.timing import Stopwatch

DEADLINE_S, TRICKLE_S, STALL_S = 1.0, 0.2, 6.0


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1 (trustme: no openssl binary needed on the box)."""
    where = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(where / "ca.pem"))
    issued = ca.issue_cert("127.0.0.1")
    issued.private_key_pem.write_to_path(str(where / "key.pem"))
    issued.cert_chain_pems[0].write_to_path(str(where / "cert.pem"))
    for extra in issued.cert_chain_pems[1:]:
        extra.write_to_path(str(where / "cert.pem"), append=True)
    return where


@contextmanager
def trickling_tls_server(cert: Path, answered: int = 0, path: str = "/") -> Iterator[str]:
    """An https server on 127.0.0.1 that completes the handshake, answers the first `answered` requests on the
    connection with `{}` (kept alive), then sends the headers of the next a byte every TRICKLE_S for STALL_S
    (no read timeout trips). Yields the URL of `path` on it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert / "cert.pem", cert / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        try:
            raw, _ = listener.accept()
            with ctx.wrap_socket(raw, server_side=True) as conn:
                for _ in range(answered):
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Pad: ")
                until = time.monotonic() + STALL_S
                while time.monotonic() < until and not stop.wait(TRICKLE_S):
                    conn.sendall(b"x")
        except OSError:
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}{path}"
    finally:
        stop.set()
        listener.close()
        thread.join(5)


@pytest.fixture
def trickling_tls(cert: Path) -> Iterator[str]:
    """Trickles the headers of the first request on a fresh connection."""
    with trickling_tls_server(cert) as url:
        yield url


def test_regression_urllib_over_tls_is_cut_at_the_deadline(trickling_tls, cert):
    """slack_sdk and the webhook sender use urllib (http.client)."""
    ctx = ssl.create_default_context(cafile=str(cert / "ca.pem"))
    with Stopwatch() as sw, WATCHDOG.guard(DEADLINE_S, allow_private=True) as guard, suppress(OSError):
        urllib.request.urlopen(trickling_tls, timeout=4, context=ctx).read()
    assert guard.fired
    sw.assert_within(DEADLINE_S, 0.5, "urllib over TLS, headers trickled")


def test_regression_requests_over_tls_is_cut_at_the_deadline(trickling_tls, cert):
    """tweepy (the X collector, X replies) uses requests (urllib3)."""
    with Stopwatch() as sw, WATCHDOG.guard(DEADLINE_S, allow_private=True) as guard, \
            suppress(requests.RequestException):
        requests.get(trickling_tls, timeout=4, verify=str(cert / "ca.pem"))
    assert guard.fired
    sw.assert_within(DEADLINE_S, 0.5, "requests over TLS, headers trickled")

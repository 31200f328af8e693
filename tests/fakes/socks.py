"""A SOCKS5 proxy on 127.0.0.1 (RFC 1928: no authentication, CONNECT only), relaying to the named target.

What PySocks (urllib3's SOCKS pools, so requests and tweepy) speaks to a real proxy: the greeting
(`05 n methods`) answered with `05 00` (no auth; `05 FF` when the client offers none we take), then a CONNECT
request (`05 01 00` + an IPv4, domain or IPv6 address + port) answered `05 00 00 01` + the bound address once
the target connection is open (`05 05` connection refused, `05 07` any other command), then bytes relayed both
ways until either side closes. `connects` lists each (host, port) asked for: one per proxied TCP connection,
so a test can tell a reused connection from a new one.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType


class FakeSocks5:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"socks5://127.0.0.1:{self.port}"
        self.connects: list[tuple[str, int]] = []
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="fake-socks5", daemon=True)

    def __enter__(self) -> FakeSocks5:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._listener.close()
        with self._lock:
            for s in self._open:
                _close(s)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            version, count = _read(client, 2)
            methods = _read(client, count)
            if version != 5 or 0 not in methods:
                client.sendall(b"\x05\xff")
                return
            client.sendall(b"\x05\x00")
            version, command, _, kind = _read(client, 4)
            if kind == 1:
                host = socket.inet_ntop(socket.AF_INET, _read(client, 4))
            elif kind == 3:
                host = _read(client, _read(client, 1)[0]).decode("idna")
            elif kind == 4:
                host = socket.inet_ntop(socket.AF_INET6, _read(client, 16))
            else:
                client.sendall(b"\x05\x08\x00\x01" + bytes(6))      # address type not supported
                return
            (port,) = struct.unpack("!H", _read(client, 2))
            if command != 1:
                client.sendall(b"\x05\x07\x00\x01" + bytes(6))      # command not supported
                return
            self.connects.append((host, port))
            try:
                upstream = socket.create_connection((host, port), timeout=5)
            except OSError:
                client.sendall(b"\x05\x05\x00\x01" + bytes(6))      # connection refused
                return
            upstream.settimeout(None)
            with self._lock:
                self._open.append(upstream)
            client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", self.port))
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
            _pipe(client, upstream)
        except (OSError, ValueError):
            _close(client)


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ValueError("client closed mid-handshake")
        data += chunk
    return data


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    """Relay until `src` closes, then close both (the client or the server hung up)."""
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    _close(src)
    _close(dst)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()

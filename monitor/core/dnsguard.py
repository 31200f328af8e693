"""A DNS lookup made inside a deadline guard ends at the guard's deadline (or its stop), like its sockets do.

Why: `getaddrinfo` blocks in C, where the watchdog's socket shutdown cannot reach it (there is no socket
yet), so a resolver that answers slowly held a guarded request for as long as the system resolver tried
(resolv.conf's timeout x attempts x nameservers: tens of seconds; an NSS module, indefinitely), whichever
client asked: httpx, urllib3 (tweepy), http.client (slack_sdk) and websockets all resolve through
`socket.getaddrinfo`, directly or through `socket.create_connection`.

So `socket.getaddrinfo` is wrapped (once per process, `netguard.install`): outside a guard it is the call it
wraps, nothing else; inside one, the lookup runs in a worker thread and the caller waits for its answer or
for the guard to fire or be cancelled, whichever comes first, then fails with `socket.gaierror` (an
OSError: each client reports its usual connection error, and the caller sees `guard.fired`). The caller
gets the worker's own answer: the name is resolved once, as before, and the connect hook still checks the
address actually connected to (no second resolution to race, so no DNS-rebinding hole). A lookup that was
given up on finishes in its worker thread (a C call cannot be interrupted) and its answer is dropped.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

from monitor.core import netguard


def wrap() -> None:
    """Bound `socket.getaddrinfo`, as it is now, by the current guard; a no-op when it already is. Re-checked at
    every guard entry, so a resolver swapped in later (a test's fake, a library's) is wrapped too."""
    current = socket.getaddrinfo
    if getattr(current, "guarded", False):
        return

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> list[Any]:
        return lookup(current, host, port, family, type, proto, flags)

    getaddrinfo.guarded = True  # type: ignore[attr-defined]
    socket.getaddrinfo = getaddrinfo


def lookup(resolve: Callable[..., list[Any]], host: Any, port: Any, family: int = 0, type: int = 0,
           proto: int = 0, flags: int = 0) -> list[Any]:
    """`resolve(...)` bounded by the calling thread's guard (unbounded outside one, or for a literal address)."""
    guard = netguard.current()
    if guard is None or _literal(host, flags):
        return resolve(host, port, family, type, proto, flags)
    answer: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            answer["addresses"] = resolve(host, port, family, type, proto, flags)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller as is
            answer["error"] = exc
        finally:
            done.set()

    if not guard.wake_on_end(done):
        raise _cut(host, guard)
    try:
        threading.Thread(target=work, name="dns-lookup", daemon=True).start()
        done.wait()                    # the answer, or the guard firing / being cancelled (it sets `done`)
    finally:
        guard.forget_waker(done)
    if "addresses" in answer:
        return list(answer["addresses"])
    if "error" in answer:
        raise answer["error"]
    raise _cut(host, guard)


def _cut(host: Any, guard: netguard.Guard) -> socket.gaierror:
    why = "stopping" if guard.cancelled else "at the deadline"
    return socket.gaierror(socket.EAI_AGAIN, f"DNS lookup of {host!s} cut {why}")


def _literal(host: Any, flags: int) -> bool:
    """An address (or no host at all) needs no lookup: no thread for it."""
    if host is None or flags & socket.AI_NUMERICHOST:
        return True
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    try:
        ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return False
    return True

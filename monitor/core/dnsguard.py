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

Those abandoned threads are capped (`MAX_ABANDONED` per process): under a dead resolver every poll left one
more thread stuck in C, without bound. At the cap a guarded lookup fails at once, before starting a thread
("not started: N earlier lookups ... still wait for the system resolver"), which the request reports as its
connection error; the log says it once per episode, and again when the resolver answers and lookups resume.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

from monitor.core import netguard

log = logging.getLogger(__name__)

#: Lookups given up on whose thread still waits in the resolver; beyond this, guarded lookups fail fast.
MAX_ABANDONED = 16
_lock = threading.Lock()
_abandoned = 0
_refusing = False            # an episode at the cap is under way (logged once when it starts, once when it ends)


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
    _refuse_at_cap(host)
    answer: dict[str, Any] = {}
    done = threading.Event()
    state = {"finished": False, "abandoned": False}

    def work() -> None:
        try:
            answer["addresses"] = resolve(host, port, family, type, proto, flags)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller as is
            answer["error"] = exc
        finally:
            with _lock:
                state["finished"] = True
                if state["abandoned"]:
                    _release()
            done.set()

    if not guard.wake_on_end(done):
        raise _cut(host, guard)
    try:
        threading.Thread(target=work, name="dns-lookup", daemon=True).start()
        done.wait()                    # the answer, or the guard firing / being cancelled (it sets `done`)
    finally:
        guard.forget_waker(done)
        with _lock:
            if not state["finished"]:  # given up on: its thread is counted until the resolver returns
                state["abandoned"] = True
                _abandon()
    if "addresses" in answer:
        return list(answer["addresses"])
    if "error" in answer:
        raise answer["error"]
    raise _cut(host, guard)


def abandoned() -> int:
    """Lookups given up on whose thread still waits for the resolver (for tests and diagnostics)."""
    with _lock:
        return _abandoned


def _refuse_at_cap(host: Any) -> None:
    """Fail fast, starting no thread, while `MAX_ABANDONED` earlier lookups still wait for the resolver."""
    global _refusing
    with _lock:
        if _abandoned < MAX_ABANDONED:
            return
        stuck, first = _abandoned, not _refusing
        _refusing = True
    if first:
        log.warning("DNS lookups refused: %d lookups given up on still wait for the system resolver (is it "
                    "down?); new lookups fail at once until they return", stuck)
    raise socket.gaierror(socket.EAI_AGAIN, f"DNS lookup of {host!s} not started: {stuck} earlier lookups still "
                                            "wait for the system resolver (is it down?)")


def _abandon() -> None:
    global _abandoned
    _abandoned += 1


def _release() -> None:
    """One abandoned lookup returned (called with `_lock` held): below the cap again ends the episode."""
    global _abandoned, _refusing
    _abandoned -= 1
    if _refusing and _abandoned < MAX_ABANDONED:
        _refusing = False
        log.warning("DNS lookups resumed: the system resolver returned (%d lookups still waiting)", _abandoned)


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

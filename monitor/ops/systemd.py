"""systemd integration: readiness and watchdog notifications, and credentials passed with `LoadCredential=`.

The notification protocol is one datagram of `KEY=value` lines sent to the AF_UNIX socket named by
`$NOTIFY_SOCKET` (a leading "@" means the abstract namespace); see sd_notify(3). It is small and stable, so
it is spoken here directly rather than through `systemd-python` (which needs libsystemd headers to build) or
an unmaintained wrapper. Everything is a no-op outside systemd, so the same code runs under cron or a shell.

Credentials: with `LoadCredential=SLACK_BOT_TOKEN:/etc/...`, systemd puts the secret in a file named
`SLACK_BOT_TOKEN` under `$CREDENTIALS_DIRECTORY` (readable by the service only, never in the environment
of other processes or in `systemctl show`). `load_credentials` exposes those files as environment variables
of this process, so every part of the code keeps reading secrets one way.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from pathlib import Path

from monitor.core.errors import ConfigError

log = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
MAX_CREDENTIAL_BYTES = 64 * 1024


class Notifier:
    """Sends sd_notify messages when systemd asked for them (`Type=notify`), and nothing otherwise."""

    def __init__(self, environ: dict[str, str] | None = None):
        env = os.environ if environ is None else environ
        self.address = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_usec = _watchdog_usec(env)
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """How often to ping: half of `WatchdogSec=`, as sd_watchdog_enabled(3) recommends; None if off."""
        return self.watchdog_usec / 2e6 if self.watchdog_usec and self.enabled else None

    def notify(self, *lines: str) -> bool:
        """Send one datagram; a lost notification must never take the daemon down, so errors are logged."""
        if self.address is None:
            return False
        data = "\n".join(lines).encode()
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(data, self.address)
                return True
            except OSError as exc:
                log.warning("systemd notification failed: %s", exc, extra={"notify": lines[0] if lines else ""})
                return False

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def reloading(self) -> bool:
        # MONOTONIC_USEC lets `Type=notify-reload` (systemd 253+) match this to the reload it asked for.
        return self.notify("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self, status: str | None = None) -> bool:
        return self.notify("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def watchdog(self, status: str | None = None) -> bool:
        return self.notify("WATCHDOG=1", *([f"STATUS={status}"] if status else []))

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _address(value: str) -> str | None:
    if not value:
        return None
    if value.startswith("@"):
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    log.warning("ignoring NOTIFY_SOCKET=%r: only unix socket paths are supported", value)
    return None


def _watchdog_usec(env: dict[str, str] | os._Environ[str]) -> int | None:
    """`WATCHDOG_USEC`, honoured only when `WATCHDOG_PID` is unset or names this process (sd_watchdog_enabled)."""
    pid = env.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None


def load_credentials(directory: str | None = None) -> list[str]:
    """Export each credential file named like an environment variable; return the names exported.

    A variable already set in the environment wins (an explicit override), and is left as it is. Trailing
    newlines are stripped: `echo token > file` is the usual way to write one.
    """
    directory = directory if directory is not None else os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return []
    loaded: list[str] = []
    try:
        entries = sorted(Path(directory).iterdir())
    except OSError as exc:
        # systemd set it, so secrets were meant to be there: running without them would look healthy while
        # nothing reaches Slack. An error that stops the start, not a log line.
        raise ConfigError(f"cannot read $CREDENTIALS_DIRECTORY {directory}: {exc.strerror or exc}") from None
    for entry in entries:
        name = entry.name
        if not _ENV_NAME.match(name) or not entry.is_file():
            log.debug("credential %s ignored: not named like an environment variable", name)
            continue
        if os.environ.get(name):          # set explicitly (and not empty): that wins
            continue
        try:
            raw = entry.read_bytes()[:MAX_CREDENTIAL_BYTES]
            value = raw.decode().rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            log.error("cannot read credential %s: %s", name, type(exc).__name__)
            continue
        if value:
            os.environ[name] = value
            loaded.append(name)
    return loaded

"""The one exception hierarchy of mention-monitor.

Core code raises these; only the CLI turns them into messages and exit codes, so a library caller (tests,
the daemon) can tell "the config is wrong" from "one source is down" from "Slack said no" without parsing
strings::

    MonitorError
    ├── ConfigError                  config/monitor.yaml or rules.yaml is wrong (exit 2)
    │   ├── ConfigValidationError    carries every ConfigIssue (file, line, key path, message, hint)
    │   └── QueryError               a brand query that does not parse (position in the query)
    ├── SourceError                  one source failed; every other source goes on
    │   ├── FetchError               network, timeout, HTTP status, redirect refused
    │   │   ├── RateLimited          the server asked us to wait (retry_at, epoch seconds)
    │   │   └── BodyTooLarge         the body (after decompression) passed the cap
    │   ├── ParseError               the body could not be read as what the source promised
    │   └── SourceAuthError          401/403: the source is disabled until ops fix credentials
    ├── DeliveryError                a message could not be delivered (yet)
    │   ├── SlackRateLimited         429: retry after `retry_after` seconds
    │   ├── SlackTransient           5xx, connection refused, timeouts: retry with backoff
    │   │   └── OutcomeUnknown       timed out after sending: look for the message before any retry
    │   ├── ChannelUnavailable       channel_not_found / not_in_channel: reroute to the default owner
    │   ├── SlackRejected            this one message was refused (invalid_blocks, message_not_found…)
    │   └── SlackFatal               invalid_auth and friends: stop delivering, say so loudly
    │       └── TokenRefused         the token itself is dead (invalid_auth, token_revoked…): it can neither
    │                                post nor read history, so a lookup with it is "cannot tell", never "absent"
    ├── StorageError                 the state (SQLite or PostgreSQL) cannot be opened, migrated or used
    │   ├── StorageUnavailable       the database, not the statement: connection lost, server shut down, pool
    │   │                            timeout, SQLite busy/locked, disk I/O, read-only; retry later, blame no row
    │   ├── StorageRejected          this statement or row was refused: constraint, data error (a value too
    │   │                            long), bad SQL; retrying it as is cannot help (its row's fault)
    │   └── LockHeld                 another `monitor run --once` holds the database
    └── AlertError                   unknown alert id or a transition the alert's state does not allow
"""

from __future__ import annotations

from dataclasses import dataclass


class MonitorError(Exception):
    """Base of every error mention-monitor raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a config file, located precisely enough for ops to fix it without guessing."""

    file: str
    line: int | None
    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class ConfigError(MonitorError):
    """The configuration cannot be used as it is."""


class ConfigValidationError(ConfigError):
    """Whole-file validation found one or more issues; all of them are reported at once."""

    def __init__(self, issues: list[ConfigIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class QueryError(ConfigError):
    """A brand query is malformed; `position` is the 0-based character offset of the problem."""

    def __init__(self, message: str, query: str, position: int):
        self.query = query
        self.position = position
        self.reason = message
        super().__init__(f"{message} at position {position}: {query!r}")


class SourceError(MonitorError):
    """One source failed; `reason` is a one-line explanation fit for `monitor status`."""

    def __init__(self, reason: str, *, source_id: str | None = None):
        self.reason = reason
        self.source_id = source_id
        super().__init__(reason)


class FetchError(SourceError):
    """The fetch itself failed (network, timeout, status code, refused redirect)."""

    def __init__(self, reason: str, *, source_id: str | None = None, status: int | None = None):
        self.status = status
        super().__init__(reason, source_id=source_id)


class RateLimited(FetchError):
    """The server said to wait; `retry_at` is an epoch timestamp, or None when it did not say until when."""

    def __init__(self, reason: str, *, retry_at: float | None, source_id: str | None = None,
                 status: int | None = 429):
        self.retry_at = retry_at
        super().__init__(reason, source_id=source_id, status=status)


class BodyTooLarge(FetchError):
    """The decoded body passed the configured cap; the download was stopped near the cap."""


class ParseError(SourceError):
    """The body was fetched but is not what the source kind expects."""


class SourceAuthError(SourceError):
    """Credentials were refused (401/403); polling stops until ops intervene."""


class DeliveryError(MonitorError):
    """A message could not be delivered now."""


class SlackRateLimited(DeliveryError):
    def __init__(self, retry_after: float, message: str = "rate limited by Slack"):
        self.retry_after = retry_after
        super().__init__(f"{message}; retry after {retry_after:g}s")


class SlackTransient(DeliveryError):
    """Worth retrying with backoff: 5xx, connection refused, timeouts, `ok: false` with a transient error."""


class OutcomeUnknown(SlackTransient):
    """The request may have reached Slack (a timeout or a reset after sending): never repeated blindly."""


class ChannelUnavailable(DeliveryError):
    """The channel does not exist or the bot is not in it."""

    def __init__(self, channel: str, error: str):
        self.channel = channel
        self.error = error
        super().__init__(f"{error}: {channel}")


class SlackRejected(DeliveryError):
    """Slack refused this one message (bad blocks, message to update gone): retrying it as is cannot help."""

    def __init__(self, error: str):
        self.error = error
        super().__init__(f"Slack rejected the message: {error}")


class SlackFatal(DeliveryError):
    """Retrying cannot help (invalid_auth, account_inactive...): stop delivery and say so loudly."""


class TokenRefused(SlackFatal):
    """The token is dead (invalid_auth, not_authed, account_inactive, token_revoked, token_expired), unlike a
    missing scope: a history lookup refused this way says nothing about the channel, so it must not be read as
    "the bot may not read history, post once more" (regression: a dead token reposted an alert in flight)."""


class StorageError(MonitorError):
    """The state (SQLite or PostgreSQL) cannot be opened, migrated or written."""


class _DriverError(StorageError):
    """A database driver's error, classified. `driver` is the driver's class name (`IntegrityError`,
    `UniqueViolation`, `OperationalError`...), `sqlstate` PostgreSQL's code when there is one. The message
    names the driver's error and the SQL, never a bound value (mention text) nor a password."""

    def __init__(self, message: str, *, driver: str | None = None, sqlstate: str | None = None):
        self.driver = driver
        self.sqlstate = sqlstate
        super().__init__(message)


class StorageUnavailable(_DriverError):
    """The database cannot be used now, whatever the statement: a lost connection, a server shutting down or
    restarting, no pooled connection in time, SQLite's busy timeout (`database is locked`), disk I/O, a
    read-only file or standby. Nothing to hold against the row at hand: wait and try again."""


class StorageRejected(_DriverError):
    """The database refused this statement or its row: a constraint, a data error (a value too long, a bad
    number), SQL it does not understand. The database is fine; the same statement would fail again."""


class LockHeld(StorageError):
    """Another `monitor run --once` (or daemon) holds the run lock on this database."""


class AlertError(MonitorError):
    """An alert id that does not exist, or a transition its current state does not allow."""

"""Problems as data: what `monitor status` (`health.report()`), the store-only report and the dashboard's strip share.

A problem is {"kind", "text", "detail"}: `text` is what `monitor status` prints, `kind` what a reader (the
dashboard's strip) dispatches on, never the wording; every kind is in PROBLEM_KINDS and has its row in
tests/test_health_problems.py. Here, apart from the checks, so each part of the report (`checks`, `store_report`,
`health`) builds its problems and records the same way.
"""

from __future__ import annotations

from typing import Any

from monitor.core.clock import iso

# Every problem the reports can raise, by kind
SOURCE_KINDS = ("source_overdue", "source_disabled", "stream_down", "source_failing")
PROBLEM_KINDS = SOURCE_KINDS + ("delivery_halted", "delivery_unrecorded", "delivery_stuck", "config",
                                "slack_terminal", "replicas_differ", "report_not_posted", "actions_stuck",
                                "actions_failed", "routing_parked", "routing_paused", "routing_stalled",
                                "database_damaged", "search_accents")


def problem(kind: str, detail: str, prefix: str = "") -> dict[str, str]:
    """One problem: `text` is what `monitor status` prints (`prefix` + `detail`), `kind` what readers act on."""
    assert kind in PROBLEM_KINDS, kind
    return {"kind": kind, "text": prefix + detail, "detail": detail}


DAMAGE_TTL_S = 300.0
"""How often a long-running reader (the dashboard's strip, /metrics) runs SQLite's `quick_check` at most: it reads
every page of the file, and damage, once there, stays until someone repairs it."""


def with_damage(rep: dict[str, Any], damage: str | None) -> dict[str, Any]:
    """`rep` with the database's damage (`Store.quick_check()`'s line, None: sound) as its first problem, in
    `issues` (kind `database_damaged`) as in `problems`: one list of problems, whoever reads it."""
    if damage:
        found = problem("database_damaged", damage)
        rep["issues"].insert(0, found)
        rep["problems"].insert(0, found["text"])
        rep["healthy"] = False
    return rep


def source_record(sid: str, kind: str, r: dict[str, Any], found: list[dict[str, str]], *,
                  failing: bool, **extra: Any) -> dict[str, Any]:
    """A source's row in the report. `failing`: its failures in a row reached its alert threshold (the fact
    `monitor status` and the strip both read; `consecutive_failures` alone counts any failure)."""
    return {"id": sid, "kind": kind, "last_success": iso(r.get("last_success")),
            "last_attempt": iso(r.get("last_attempt")), "last_error": r.get("last_error"),
            "last_error_at": iso(r.get("last_error_at")), "consecutive_failures": int(r.get("consecutive_failures")
                                                                                     or 0),
            "disabled": r.get("disabled_reason"), "failing": failing, "healthy": not found,
            "problems": [p["detail"] for p in found], "problem_kinds": [p["kind"] for p in found], **extra}


def listed(found: list[dict[str, str]]) -> dict[str, list[str]]:
    """A part's problems as `monitor status --json` has always listed them, and their kinds beside them."""
    return {"problems": [p["detail"] for p in found], "problem_kinds": [p["kind"] for p in found]}


def parts_found(prefix: str, part: dict[str, Any]) -> list[dict[str, str]]:
    """A part's listed problems (`listed`) as problems again, each `text` with the part's `prefix`."""
    return [problem(k, d, prefix) for k, d in zip(part["problem_kinds"], part["problems"], strict=True)]


__all__ = ["DAMAGE_TTL_S", "PROBLEM_KINDS", "SOURCE_KINDS", "listed", "parts_found", "problem", "source_record", "with_damage"]

"""Quiet hours: the window in its own time zone (crossing midnight, across DST), and who is excepted."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from monitor.alerting.quiet import hold_until, quiet_until
from monitor.config.rules import QuietHours, load_rules
from tests.harness import spec_rules

PARIS = ZoneInfo("Europe/Paris")


def _t(text: str, tz: ZoneInfo = PARIS) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


@pytest.mark.parametrize("window, at, until", [
    (("22:00", "07:00"), "2024-03-12 23:30", "2024-03-13 07:00"),       # crosses midnight, before it
    (("22:00", "07:00"), "2024-03-13 03:00", "2024-03-13 07:00"),       # after midnight
    (("22:00", "07:00"), "2024-03-13 07:00", None),                     # the end is not quiet
    (("22:00", "07:00"), "2024-03-12 21:59", None),
    (("22:00", "07:00"), "2024-03-12 22:00", "2024-03-13 07:00"),       # the start is
    (("12:00", "14:00"), "2024-03-12 13:00", "2024-03-12 14:00"),       # a same-day window
    (("12:00", "14:00"), "2024-03-12 15:00", None),
    (("22:00", "07:00"), "2024-03-30 23:00", "2024-03-31 07:00"),       # the night clocks go forward
    (("22:00", "07:00"), "2024-10-26 23:00", "2024-10-27 07:00"),       # the night they go back
    (("01:00", "02:30"), "2024-03-31 01:30", "2024-03-31 03:00"),       # ends inside the DST gap: at 03:00
])
def test_quiet_window(window, at, until):
    q = QuietHours.model_validate({"from": window[0], "to": window[1], "tz": "Europe/Paris"})
    got = quiet_until(q, _t(at))
    assert got == (None if until is None else _t(until))


def test_night_across_dst_is_the_right_length():
    q = QuietHours.model_validate({"from": "22:00", "to": "07:00", "tz": "Europe/Paris"})
    assert quiet_until(q, _t("2024-03-30 22:00")) - _t("2024-03-30 22:00") == 8 * 3600    # a short night
    assert quiet_until(q, _t("2024-10-26 22:00")) - _t("2024-10-26 22:00") == 10 * 3600   # a long one


def test_time_zone_is_the_windows_own():
    q = QuietHours.model_validate({"from": "22:00", "to": "07:00", "tz": "America/New_York"})
    ny = ZoneInfo("America/New_York")
    assert quiet_until(q, _t("2024-03-12 23:00", ny)) == _t("2024-03-13 07:00", ny)
    assert quiet_until(q, _t("2024-03-12 23:00")) is None                 # 23:00 in Paris is 18:00 in NY


def test_except_names_policies_or_routes(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text(spec_rules().replace("except: [critical]", "except: [critical, bad-review]"))
    rules = load_rules(p)
    night = _t("2024-03-12 23:00")
    assert hold_until(rules, "data-security", "critical", night) is None         # by policy
    assert hold_until(rules, "bad-review", None, night) is None                  # by route
    assert hold_until(rules, "any-negative", None, night) == _t("2024-03-13 07:00")
    assert hold_until(rules, "angry-influencer", "standard", night) == _t("2024-03-13 07:00")
    assert hold_until(rules, "any-negative", None, _t("2024-03-13 09:00")) is None

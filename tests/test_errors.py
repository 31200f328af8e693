from monitor.core.clock import FakeClock, iso
from monitor.core.errors import ConfigIssue, ConfigValidationError, QueryError


def test_config_issue_names_file_line_path_and_hint():
    issue = ConfigIssue("rules.yaml", 14, "routes[2].notify", 'unknown owner "suport-lead"',
                        'did you mean "support-lead"?')
    assert str(issue) == ('rules.yaml:14 routes[2].notify: unknown owner "suport-lead" '
                          '(did you mean "support-lead"?)')


def test_validation_error_reports_every_issue():
    err = ConfigValidationError([ConfigIssue("a.yaml", 1, "x", "bad"), ConfigIssue("a.yaml", 2, "y", "worse")])
    assert str(err).splitlines() == ["a.yaml:1 x: bad", "a.yaml:2 y: worse"]


def test_query_error_points_at_position():
    err = QueryError("unbalanced parenthesis", "(acme OR foo", 0)
    assert err.position == 0 and "position 0" in str(err)


def test_fake_clock_sleep_advances():
    clock = FakeClock(100.0)
    clock.sleep(5)
    assert clock.now() == 105.0
    assert iso(0) == "1970-01-01T00:00:00Z"

"""Turn pydantic's validation errors into ConfigIssues that name file, line, key path and a hint.

Pydantic knows *what* is wrong; the YAML loader knows *where*. This module joins the two and adds the
did-you-mean hints ops expect from mature tools (Alertmanager, datasette): an unknown key suggests the
closest allowed one, a bad value is quoted back.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
import zoneinfo
from collections.abc import Iterable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError

from monitor.core.durations import FROM_FILE
from monitor.core.errors import ConfigIssue
from monitor.core.yamlfile import Loc, LocatedYaml

M = TypeVar("M", bound=BaseModel)


def _time_of_day(v: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", str(v)):
        raise ValueError(f'bad time "{v}" (use 24-hour "HH:MM", e.g. "22:00")')
    return v


def _time_zone(v: str) -> str:
    try:
        zoneinfo.ZoneInfo(v)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f'unknown time zone "{v}" (use an IANA name such as "Europe/Paris")') from None
    return v


TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]      # "HH:MM", 24-hour
TimeZone = Annotated[str, AfterValidator(_time_zone)]         # an IANA name


class Strict(BaseModel):
    """Base for every config model: unknown keys are errors (a typo must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    if options and len(options) <= 12:
        return "expected one of: " + ", ".join(options)
    return None


def validate(doc: LocatedYaml, model: type[M], data: Any = None, prefix: Loc = ()) -> tuple[M | None, list[ConfigIssue]]:
    """Validate `data` (default: the whole document) against `model`; never raises for bad input."""
    data = doc.data if data is None else data
    try:
        return model.model_validate(data, context={FROM_FILE: True}), []
    except ValidationError as exc:
        return None, [_issue(doc, model, data, prefix, err) for err in _one_per_union(data, exc.errors())]


def empty_hint(key: str) -> str:
    if key in ("slack", "notify", "mention"):
        return f'an unquoted value starting with # is a YAML comment: write {key}: "#channel-name"'
    return "give it a value, or remove the key"


def _one_per_union(data: Any, errors: list[Any]) -> list[Any]:
    """A value that fits none of a union's shapes (`notify:` an owner, a list, or {slack: …}) makes pydantic
    report every branch ("should be a valid string", "… a valid list", then the real problem inside the
    mapping). Keep the deepest error under each key: the one about what was actually written."""
    paths = [_data_path(data, tuple(e["loc"]), e["type"] in ("missing", "extra_forbidden")) for e in errors]
    out = []
    for i, (err, path) in enumerate(zip(errors, paths, strict=True)):
        from_union = len(path) < len(err["loc"]) and err["type"] not in ("missing", "extra_forbidden")
        deeper = any(len(other) > len(path) and other[:len(path)] == path for j, other in enumerate(paths) if j != i)
        same = [e for j, e in enumerate(errors) if paths[j] == path and j < i]
        if from_union and (deeper or same):
            continue
        if from_union and not deeper:
            alts = [e["msg"] for j, e in enumerate(errors) if paths[j] == path and j > i]
            if alts:
                err = {**err, "msg": "; or ".join([err["msg"], *alts])}
        out.append(err)
    return out


def _issue(doc: LocatedYaml, model: type[BaseModel], data: Any, prefix: Loc, err: Any) -> ConfigIssue:
    loc = _data_path(data, tuple(err["loc"]), err["type"] == "missing" or err["type"] == "extra_forbidden")
    full = (*prefix, *loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        return doc.issue(full, f'unknown key "{key}"', did_you_mean(key, _allowed_keys(model, loc[:-1])))
    if kind == "missing":
        return doc.issue(full, f'missing required key "{loc[-1]}"' if loc else "missing value")
    msg = err["msg"]
    for prefix_text in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix_text):
            msg = msg[len(prefix_text):]
    if "input" in err and err["input"] is None and err.get("type") != "value_error":
        key = str(loc[-1]) if loc else "value"
        return doc.issue(full, f'"{key}" is empty', empty_hint(key))
    if err.get("type") != "value_error" and "input" in err and not isinstance(err["input"], dict | list):
        msg = f"{msg[0].lower()}{msg[1:]} (got {err['input']!r})"
    return doc.issue(full, msg)


def _data_path(data: Any, loc: Loc, keep_last: bool) -> Loc:
    """Drop the union/type tags pydantic inserts into `loc`, keeping only steps that exist in the data."""
    out: list[str | int] = []
    cur = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif last and keep_last:
            out.append(part)
    return tuple(out)


def _allowed_keys(model: type[BaseModel], loc: Loc) -> set[str]:
    models: set[type[BaseModel]] = {model}
    for part in loc:
        nxt: set[type[BaseModel]] = set()
        for m in models:
            if isinstance(part, int):
                continue
            field = _field_by_key(m, part)
            if field is not None:
                nxt |= _models_in(field.annotation)
        if isinstance(part, int) or not nxt:
            # list items or dict values: descend into the container types of the current models' fields
            nxt = nxt or models
        models = nxt
    keys: set[str] = set()
    for m in models:
        for name, field in m.model_fields.items():
            keys.add(field.alias or name)
    return keys


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _models_in(annotation: Any) -> set[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {annotation}
    out: set[type[BaseModel]] = set()
    origin = typing.get_origin(annotation)
    if origin is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            out |= _models_in(arg)
    return out

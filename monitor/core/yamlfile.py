"""YAML loading that remembers where every key came from.

Config errors must name the file and line ("rules.yaml:14 routes[2].notify: ..."), but PyYAML's `safe_load`
forgets positions. We compose the node tree instead and build plain data plus a map from key path to line,
so validation (pydantic) can work on plain data and the error reporter can still point at the right line.
Duplicate keys are an error here: PyYAML silently keeps the last one, which hides typos in long files.

Aliases are expanded here, so this is where alias tricks are stopped: an alias to a node that contains it
(recursive; it crashed the reload thread) and an alias bomb (nine aliases of nine aliases of ... a few lines
that expand to millions of nodes; `monitor check` took 2.5 GB) are both refused with the file and line,
the bomb as soon as the expansion passes MAX_NODES or MAX_ALIAS_FACTOR times the document's own nodes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from monitor.core.errors import ConfigIssue, ConfigValidationError

Loc = tuple[str | int, ...]
MAX_NODES = 200_000           # values built from one file, aliases expanded (a big rules file has ~20,000)
MAX_ALIAS_FACTOR = 10         # ...and aliases may not expand the document past 10x its written size
_COMMENTED_VALUE = re.compile(r"[:\[{,]\s+#|[\[{,]#")    # `slack: #comms`, `[#a]`: YAML reads a comment
MAX_FILE_BYTES = 8 * 2**20          # a config or rules file is kilobytes; anything this big is a mistake

try:  # the C loader is much faster on large rules files; fall back when libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


class LocatedYaml:
    """Plain data plus the line (1-based) of every mapping key and sequence item."""

    def __init__(self, file: str, data: Any, lines: dict[Loc, int]):
        self.file = file
        self.data = data
        self.lines = lines

    def line(self, loc: Loc) -> int | None:
        """The line of `loc`, or of its nearest located ancestor (a missing key reports its parent)."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get((), 1)

    def issue(self, loc: Loc, message: str, hint: str | None = None) -> ConfigIssue:
        return ConfigIssue(self.file, self.line(loc), format_loc(loc), message, hint)


def format_loc(loc: Loc) -> str:
    """('routes', 2, 'notify') -> 'routes[2].notify', the form ops see in errors."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def load_yaml(path: str | Path, display_name: str | None = None) -> LocatedYaml:
    """Parse one YAML file; every problem becomes a ConfigValidationError naming the file and line."""
    name = display_name or str(path)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)          # never a 200 MB file read whole by mistake
    except FileNotFoundError:
        raise ConfigValidationError([ConfigIssue(name, None, "", "file not found",
                                                 "pass --config/--rules, or copy the shipped example")]) from None
    except OSError as exc:
        raise ConfigValidationError([ConfigIssue(name, None, "", f"cannot read file: {exc}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigValidationError([ConfigIssue(name, None, "", f"file is larger than {MAX_FILE_BYTES // 2**20} MiB",
                                                 "is this the right file? config files are a few kB")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigValidationError([ConfigIssue(name, line, "", f"not UTF-8: byte 0x{raw[exc.start]:02x} at line "
                                                 f"{line}, column {column}",
                                                 "save the file as UTF-8")]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> LocatedYaml:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        raise ConfigValidationError([_syntax_issue(exc, text, name)]) from None
    except yaml.YAMLError as exc:
        raise ConfigValidationError([ConfigIssue(name, None, "", f"YAML error: {exc}")]) from None
    lines: dict[Loc, int] = {}
    issues: list[ConfigIssue] = []
    if node is None:
        return LocatedYaml(name, {}, {(): 1})
    lines[()] = node.start_mark.line + 1
    budget = _Budget(name, min(MAX_NODES, MAX_ALIAS_FACTOR * max(_written(node), 1000)))
    data = _build(node, (), lines, issues, name, yaml.SafeLoader(""), budget)
    if issues:
        raise ConfigValidationError(issues)
    return LocatedYaml(name, data, lines)


def _written(root: yaml.Node) -> int:
    """Distinct nodes in the document as written (each anchored node once)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.MappingNode):
            stack.extend(x for pair in n.value for x in pair)
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return len(seen)


class _Budget:
    """Counts nodes built and the chain of collections being built (a node inside itself is recursion)."""

    def __init__(self, name: str, limit: int):
        self.name = name
        self.limit = limit
        self.used = 0
        self.open: set[int] = set()

    def spend(self, node: yaml.Node) -> None:
        self.used += 1
        if self.used > self.limit:
            raise ConfigValidationError([ConfigIssue(
                self.name, node.start_mark.line + 1, "", f"aliases expand this file past {self.limit:,} values "
                "(an alias bomb?)", "write the values out, or use fewer nested aliases")])
def _syntax_issue(exc: yaml.MarkedYAMLError, text: str, name: str) -> ConfigIssue:
    """Where the problem started, not where the parser gave up: an unclosed quote is reported where it
    opened (PyYAML's problem mark is then the end of the file)."""
    opened = exc.context_mark if exc.context and "quoted scalar" in exc.context else None
    if opened is not None:
        return ConfigIssue(name, opened.line + 1, "", f"unclosed quote: the string opened at line {opened.line + 1}, "
                           f"column {opened.column + 1} never ends", "add the closing quote on that line")
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    where = f" (column {mark.column + 1})" if mark else ""
    lines = text.splitlines()
    candidates = [m.line for m in (exc.context_mark, exc.problem_mark) if m is not None]
    candidates += [c - 1 for c in candidates]
    for n in sorted(set(candidates)):
        if 0 <= n < len(lines) and _COMMENTED_VALUE.search(lines[n]):
            return ConfigIssue(name, n + 1, "", f"YAML syntax error: {exc.problem}; the # on line {n + 1} starts "
                               "a comment, cutting the value", 'quote "#channel" names, e.g. {slack: "#comms"}')
    return ConfigIssue(name, line, "", f"YAML syntax error: {exc.problem}{where}",
                       "check indentation and quoting on this line")


def _build(node: yaml.Node, loc: Loc, lines: dict[Loc, int], issues: list[ConfigIssue], name: str,
           constructor: yaml.SafeLoader, budget: _Budget) -> Any:
    budget.spend(node)
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
        if id(node) in budget.open:
            raise ConfigValidationError([ConfigIssue(
                name, node.start_mark.line + 1, format_loc(loc), "recursive alias: this value contains itself",
                "an alias (*name) may only refer to an anchor (&name) outside of it")])
        budget.open.add(id(node))
        try:
            return _collection(node, loc, lines, issues, name, constructor, budget)
        finally:
            budget.open.discard(id(node))
    return constructor.construct_object(node, deep=True)


def _collection(node: yaml.MappingNode | yaml.SequenceNode, loc: Loc, lines: dict[Loc, int],
                issues: list[ConfigIssue], name: str, constructor: yaml.SafeLoader, budget: _Budget) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str | int | float | bool) or key is None:
                issues.append(ConfigIssue(name, key_node.start_mark.line + 1, format_loc(loc),
                                          f"unsupported key {key!r}", "keys must be plain strings"))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = (*loc, key)
            if key in out:
                issues.append(ConfigIssue(name, key_node.start_mark.line + 1, format_loc(child),
                                          "duplicate key", f"first defined on line {lines[child]}"))
                continue
            lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, lines, issues, name, constructor, budget)
        return out
    items = []
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            items.append(_build(item, (*loc, i), lines, issues, name, constructor, budget))
    return items

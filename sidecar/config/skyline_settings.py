"""Read Skyline's ``settings.py`` without importing or executing it.

Skyline's settings module is several thousand lines of ``NAME = <literal>`` followed by a
docstring, with a handful of values derived from earlier ones
(``CARBON_HOST = GRAPHITE_HOST``, ``'skyline.horizon.%s...' % SERVER_METRICS_NAME``). Importing it
would run arbitrary code with the sidecar's privileges, so we walk its AST instead and evaluate
only what is provably side-effect free: literals, names bound earlier, containers of those,
string concatenation and ``%``-formatting, ``str()`` of a known value and ``os.path.join``.
Anything else is skipped, never an error.
"""

from __future__ import annotations

import ast
import os.path
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ParsedSettings", "SettingsError", "parse_settings", "read_settings"]

# Built strings longer than this are not settings; `%` widths like `%99999999d` or `%*d` are
# refused before formatting so a hostile settings.py cannot make us allocate gigabytes.
_MAX_STR = 1 << 16
_HUGE_FORMAT = re.compile(r"%[^a-zA-Z%]*(\*|\d{5,})")
# Methods that leave a dict or list as it was: `X = SLACK_OPTS.get(...)` keeps SLACK_OPTS.
_READ_METHODS = frozenset({"get", "copy", "keys", "values", "items", "count", "index"})
_NOT_SETTINGS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class SettingsError(ValueError):
    """settings.py could not be read or is not valid Python."""


class _Unknown(Exception):
    """The expression is not one we evaluate; its target is skipped."""


@dataclass(frozen=True)
class ParsedSettings:
    values: dict[str, Any]
    #: Names whose value could not be evaluated or that code we do not run (if/try/for,
    #: method calls) may change, and ``NAME['key']`` for dict entries left out.
    skipped: tuple[str, ...]


def read_settings(path: Path | str) -> dict[str, Any]:
    """Return the module-level settings of the Skyline ``settings.py`` at *path*.

    Raises `SettingsError` naming the file (and line, for a syntax error).
    """
    return parse_file(path).values


def parse_file(path: Path | str) -> ParsedSettings:
    """Like `read_settings`, but also say which names were skipped."""
    try:
        source = Path(path).read_bytes()
    except OSError as e:
        raise SettingsError(f"{path}: cannot read Skyline settings: {e.strerror or e}") from e
    return parse_settings(source, filename=str(path))


def parse_settings(source: str | bytes, filename: str = "<settings>") -> ParsedSettings:
    """Evaluate the simple module-level assignments of a settings.py given as *source*."""
    try:
        tree = ast.parse(source, filename=filename)
    except (SyntaxError, ValueError) as e:  # ValueError: NUL bytes in the source
        line = getattr(e, "lineno", None)
        where = f"{filename}:{line}" if line else filename
        msg = getattr(e, "msg", None) or str(e)
        raise SettingsError(f"{where}: Skyline settings are not valid Python: {msg}") from e

    values: dict[str, Any] = {}
    skipped: dict[str, None] = {}  # ordered set

    def forget(node: ast.AST) -> None:
        # A binding or mutation we cannot follow makes the earlier value wrong: drop it.
        bound, mutated = _touched(node)
        # Only a dict, list or set can change without being rebound (HOST.lower() cannot).
        mutable = [m for m in mutated if isinstance(values.get(m), dict | list | set)]
        for name in bound + mutable:
            values.pop(name, None)
            skipped[name] = None

    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            evaluator = _Evaluator(values)
            try:
                value = evaluator.eval(node.value)
            except _Unknown:
                forget(node)
                continue
            for target in targets:
                try:
                    name = _assign(values, target, value)
                except _Unknown:  # tuple unpacking, attributes, unknown keys: not followed
                    forget(target)
                    continue
                skipped.pop(name, None)
                # Dict entries we could not evaluate were left out of the dict.
                skipped.update(dict.fromkeys(name + p for p in evaluator.dropped))
        elif isinstance(node, _NOT_SETTINGS):
            for name in _touched(node)[0]:  # modules and functions: not worth reporting
                values.pop(name, None)
        elif isinstance(node, ast.Delete) and all(isinstance(t, ast.Name) for t in node.targets):
            for name in _touched(node)[0]:
                values.pop(name, None)
        else:
            # Docstrings touch nothing. if/try/for/with, augmented assignments, method calls
            # (SLACK_OPTS.update(...)) may bind or change names: we run none of it and forget
            # what it touches.
            forget(node)
    return ParsedSettings(values, tuple(skipped))


def _assign(values: dict[str, Any], target: ast.expr, value: Any) -> str:
    """Bind ``NAME = value`` or ``NAME[key]...[key] = value``; return NAME."""
    if isinstance(target, ast.Name):
        values[target.id] = value
        return target.id
    keys: list[Any] = []
    while isinstance(target, ast.Subscript):
        keys.append(_Evaluator(values).eval(target.slice))
        target = target.value
    if not keys or not isinstance(target, ast.Name) or target.id not in values:
        raise _Unknown
    # In place, as Python does: a name bound to the same dict (B = A) sees the change too.
    container = values[target.id]
    try:
        for key in reversed(keys[1:]):
            container = container[key]
        container[keys[0]] = value
    except (TypeError, KeyError, IndexError) as e:  # a tuple, a missing key...
        raise _Unknown from e
    return target.id


def _touched(node: ast.AST) -> tuple[list[str], list[str]]:
    """(names *node* may bind, names whose value it may change), best effort, for `forget`."""
    bound: list[str] = []
    mutated: list[str] = []
    stack = [node]
    while stack:
        sub = stack.pop()
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store | ast.Del):
            bound.append(sub.id)
        elif isinstance(sub, ast.Subscript | ast.Attribute) and isinstance(
            sub.ctx, ast.Store | ast.Del
        ):
            mutated.append(_root(sub))  # X['k'] = ..., del X['k']
        elif (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr not in _READ_METHODS
        ):
            mutated.append(_root(sub.func.value))  # X.update(...), X['k'].append(...)
        elif isinstance(sub, ast.alias) and sub.name != "*":  # `import *`: we cannot know
            bound.append((sub.asname or sub.name).split(".")[0])
        if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.append(sub.name)
            continue  # their bodies bind local names, not module ones
        if isinstance(sub, ast.Lambda | ast.comprehension | ast.GeneratorExp):
            continue
        stack.extend(ast.iter_child_nodes(sub))
    return bound, [name for name in mutated if name]


def _root(node: ast.expr) -> str:
    """``SLACK_OPTS`` for ``SLACK_OPTS['channels'].update``; '' if there is no plain name."""
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


class _Evaluator:
    """Evaluate the small, side-effect free subset of expressions Skyline's settings use."""

    def __init__(self, names: dict[str, Any]) -> None:
        self.names = names
        self.dropped: list[str] = []  # "['key']['sub']" paths of dict entries left out
        self._path: list[str] = []

    def eval(self, node: ast.expr) -> Any:
        try:
            # Fast path for the overwhelming majority of settings.
            return ast.literal_eval(node)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise _Unknown
        return method(node)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id not in self.names:
            raise _Unknown
        return self.names[node.id]

    def _Tuple(self, node: ast.Tuple) -> tuple[Any, ...]:
        return tuple(self._elements(node.elts))

    def _List(self, node: ast.List) -> list[Any]:
        return self._elements(node.elts)

    def _Dict(self, node: ast.Dict) -> dict[Any, Any]:
        # An entry we cannot evaluate is left out rather than losing the whole dict: a missing
        # key means "Skyline's default" to our readers, which beats losing every other key of
        # SLACK_OPTS because its token comes from os.environ.
        result = {}
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            if key_node is None:  # {**other}
                raise _Unknown
            key = self.eval(key_node)
            self._path.append(f"[{key!r}]")
            try:
                result[key] = self.eval(value_node)
            except _Unknown:
                self.dropped.append("".join(self._path))
            finally:
                self._path.pop()
        return result

    def _elements(self, elts: list[ast.expr]) -> list[Any]:
        if any(isinstance(e, ast.Starred) for e in elts):
            raise _Unknown
        return [self.eval(e) for e in elts]

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.eval(node.operand)
        if isinstance(node.op, ast.USub) and _is_number(operand):
            return -operand
        raise _Unknown

    def _BinOp(self, node: ast.BinOp) -> Any:
        left, right = self.eval(node.left), self.eval(node.right)
        if isinstance(node.op, ast.Add) and isinstance(left, str) and isinstance(right, str):
            return _bounded(left + right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            if _HUGE_FORMAT.search(left):
                raise _Unknown
            try:
                return _bounded(left % right)
            except (TypeError, ValueError, KeyError) as e:
                raise _Unknown from e
        # FULL_DURATION - 3600 and the like; no * or ** so nothing can blow up.
        if isinstance(node.op, ast.Add | ast.Sub) and _is_number(left) and _is_number(right):
            return left + right if isinstance(node.op, ast.Add) else left - right
        raise _Unknown

    def _Call(self, node: ast.Call) -> Any:
        if node.keywords:
            raise _Unknown
        func = ast.unparse(node.func)
        if func not in ("str", "os.path.join"):
            raise _Unknown
        args = self._elements(node.args)
        if func == "str" and len(args) == 1 and isinstance(args[0], str | int | float | bool):
            return str(args[0])
        if func == "os.path.join" and args and all(isinstance(a, str) for a in args):
            return _bounded(os.path.join(*args))
        raise _Unknown


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bounded(value: str) -> str:
    if len(value) > _MAX_STR:
        raise _Unknown
    return value

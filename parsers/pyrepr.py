"""Python reprs as Skyline logs them (``str(list)``, ``str(tuple)``, ``str(dict)``) to values.

Skyline writes its alert tuples, metric lists and work items with ``'%s' % str(obj)``. Those are
Python literals except for what ``ast.literal_eval`` refuses: ``nan`` / ``inf`` floats and, with
numpy >= 2, ``np.float64(87.5)`` style reprs. This evaluator walks the parsed expression itself,
accepts exactly those extras and nothing that could run code; garbage raises ``ReprError``.
"""

from __future__ import annotations

import ast
import math
from typing import Any, TypeGuard

#: longer reprs are not parsed at all (the framer already cuts lines at 1 MiB)
MAX_REPR = 1 << 20
MAX_DEPTH = 40

_NAMES: dict[str, Any] = {
    "None": None,
    "True": True,
    "False": False,
    "nan": math.nan,
    "inf": math.inf,
}
_NUMPY_MODULES = frozenset({"np", "numpy"})
_NUMPY_CONSTANTS: dict[str, Any] = {
    "True_": True,
    "False_": False,
    "nan": math.nan,
    "inf": math.inf,
    "None": None,
}
_NUMPY_TYPES = {
    **dict.fromkeys(("float16", "float32", "float64", "float128", "longdouble", "double"), float),
    **dict.fromkeys(
        ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "intc"), int
    ),
    "bool_": bool,
    "str_": str,
}


class ReprError(ValueError):
    """The text is not a Python literal this module accepts."""


def literal(text: str) -> Any:
    """The value of a logged repr; raises ReprError (never anything else) when it is not one."""
    if len(text) > MAX_REPR:
        raise ReprError("repr too long")
    try:
        tree = ast.parse(text.strip(), mode="eval")
        return _value(tree.body, 0)
    except ReprError:
        raise
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError, OverflowError) as exc:
        raise ReprError(str(exc)) from None


def _value(node: ast.expr, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ReprError("repr nested too deep")
    depth += 1
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List):
        return [_value(item, depth) for item in node.elts]
    if isinstance(node, ast.Tuple):
        return tuple(_value(item, depth) for item in node.elts)
    if isinstance(node, ast.Dict):
        keys = [key for key in node.keys if key is not None]  # None: a ``**mapping``
        if len(keys) != len(node.keys):
            raise ReprError("dict unpacking")
        pairs = zip(keys, node.values, strict=True)
        return {_value(k, depth): _value(v, depth) for k, v in pairs}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _value(node.operand, depth)
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise ReprError("sign on a non-number")
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if _is_numpy(node) and node.attr in _NUMPY_CONSTANTS:
        return _NUMPY_CONSTANTS[node.attr]
    if isinstance(node, ast.Call):
        return _numpy_call(node, depth)
    raise ReprError(f"not a literal: {type(node).__name__}")


def _is_numpy(node: ast.expr) -> TypeGuard[ast.Attribute]:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in _NUMPY_MODULES
    )


def _numpy_call(node: ast.Call, depth: int) -> Any:
    # np.float64(87.5), np.int64(3), np.str_('x'): numpy >= 2 reprs of scalars in lists
    if not _is_numpy(node.func) or node.keywords or len(node.args) != 1:
        raise ReprError("call")
    convert = _NUMPY_TYPES.get(node.func.attr)
    if convert is None:
        raise ReprError("call")
    arg = _value(node.args[0], depth)
    if not isinstance(arg, int | float | str | bool):
        raise ReprError("call argument")
    return convert(arg)


def literal_or_none(text: str) -> Any:
    """``literal(text)``, or None when the text is no literal this module accepts."""
    try:
        return literal(text)
    except ReprError:
        return None

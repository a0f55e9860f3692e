"""Type-checking a parsed expression against the columns' types.

:func:`type_of` gives an expression's result type (int64, float64, string, bool,
timestamp, date, or null for the NULL literal) bottom-up, and refuses what the
engines would not run alike: an unknown column or function, operands that do not
fit, a cast to a type features cannot hold, a pattern or unit that is not a constant,
an interval of no fixed length (months, years).

>>> from confluens.plan.expressions.parse import parse_expression
>>> def typed(text, types):
...     return type_of(parse_expression(text, "derive 'x'"), text, types, "derive 'x'")
>>> typed("amount * 2", {"amount": "int64"}), typed("amount / 2", {"amount": "int64"})
('int64', 'float64')
>>> typed("hour(ts) <= 6", {"ts": "timestamp"})
'bool'
>>> typed("card + 1", {"card": "string"})
Traceback (most recent call last):
...
confluens.errors.DefinitionError: derive 'x': + needs numbers (or a time and an interval);
got 'card + 1 (string and int64)'...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlglot.expressions as exp

from confluens.errors import DefinitionError
from confluens.plan.expressions.functions import (
    ALLOWED_FUNCTIONS,
    CASTS,
    FUNCTIONS,
    INTERVAL_UNITS,
    NUMERIC,
    TEMPORAL,
    TRUNC_UNITS,
    function_name,
)
from confluens.plan.expressions.parse import DIALECT

__all__ = ["common_type", "type_of"]

ARITHMETIC: dict[type[exp.Expr], str] = {
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.IntDiv: "//", exp.Mod: "%"}
COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ,
               exp.NullSafeNEQ)


def type_of(tree: exp.Expr, text: str, columns: Mapping[str, str], where: str) -> str:
    """The type of parsed expression ``tree`` (written as ``text``) over ``columns``
    (name -> type name). Raises DefinitionError naming ``where``."""
    try:
        return _Typer(text, columns, where).infer(tree)
    except RecursionError:
        raise DefinitionError(where, "is nested too deeply to check", got=text[:80],
                              fix="write a flatter expression") from None


def common_type(a: str, b: str) -> str | None:
    """The type two values meet in (a CASE's branches, COALESCE's arguments)."""
    if a == "null":
        return b
    if b == "null" or a == b:
        return a
    if a in NUMERIC and b in NUMERIC:
        return "float64"
    return None


def _constant(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal | exp.Null | exp.Boolean | exp.Var) or (
        isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal))


class _Typer:
    """Infers an expression's type bottom-up, refusing what an engine would not run."""

    def __init__(self, text: str, columns: Mapping[str, str], where: str) -> None:
        self.text, self.columns, self.where = text, columns, where
        self._by_node = self._handlers()

    def fail(self, rule: str, got: str, fix: str) -> DefinitionError:
        return DefinitionError(self.where, rule, got=got, fix=fix)

    def infer(self, node: exp.Expr) -> str:
        handler = self._by_node.get(type(node))
        if handler is not None:
            return handler(node)
        if type(node) in ARITHMETIC:
            return self._arithmetic(node)
        if isinstance(node, COMPARISONS):
            return self._comparison(node, node.this, node.expression)
        if type(node) in FUNCTIONS:
            return self._function(node)
        if isinstance(node, exp.Func):
            raise self.fail("calls a function that is not allowed (aggregates, window "
                            "functions, random and engine-specific functions are not, nor "
                            "those every engine cannot run exactly alike)",
                            got=function_name(node), fix="use one of " + ", ".join(
                                ALLOWED_FUNCTIONS))
        raise self.fail("uses an operation that is not allowed",
                        got=node.sql(DIALECT)[:80], fix="use arithmetic, comparisons, AND/OR/"
                        "NOT, CASE, CAST and the functions " + ", ".join(ALLOWED_FUNCTIONS))

    def _handlers(self) -> dict[type[exp.Expr], Callable[[exp.Expr], str]]:
        return {
            exp.Column: self._column, exp.Literal: self._literal,
            exp.Null: lambda _: "null", exp.Boolean: lambda _: "bool",
            exp.Paren: lambda n: self.infer(n.this), exp.Neg: self._negative,
            exp.Interval: self._interval,
            exp.And: self._logic, exp.Or: self._logic, exp.Not: self._logic,
            exp.Is: self._is, exp.Like: self._text_match, exp.ILike: self._text_match,
            exp.In: self._in, exp.Between: self._between, exp.Case: self._case,
            exp.If: self._case, exp.Coalesce: self._common_of,
            exp.Greatest: self._common_of, exp.Least: self._common_of,
            exp.Nullif: self._nullif, exp.DPipe: self._concat,
            exp.Cast: self._cast, exp.TryCast: self._cast,
        }

    def _column(self, node: exp.Expr) -> str:
        found = self.columns.get(node.name)
        if found is None:
            raise self.fail("reads a column the source does not have", got=node.name,
                            fix=f"use one of {list(self.columns)}")
        return found

    def _literal(self, node: exp.Expr) -> str:
        if node.is_string:
            return "string"
        return "int64" if str(node.this).isdigit() else "float64"

    def _negative(self, node: exp.Expr) -> str:
        inner = self.infer(node.this)
        if inner not in (*NUMERIC, "null"):
            raise self._operands("-", [inner])
        return inner

    def _interval(self, node: exp.Expr) -> str:
        unit = node.args.get("unit")
        name = (unit.name if unit is not None else "").lower().rstrip("s")
        amount = node.this
        if name not in INTERVAL_UNITS or not (
                isinstance(amount, exp.Literal) and str(amount.this).isdigit()):
            raise self.fail("an INTERVAL must be a whole number of a fixed-length unit",
                            got=node.sql(DIALECT), fix="write e.g. INTERVAL 1 DAY; units: "
                            + ", ".join(INTERVAL_UNITS) + " (months and years have no "
                            "fixed length)")
        return "interval"

    def _operands(self, op: str, types: list[str]) -> DefinitionError:
        return self.fail(f"{op} needs numbers (or a time and an interval)",
                         got=f"{self.text} ({' and '.join(types)})",
                         fix="cast the operands, e.g. CAST(col AS DOUBLE), or use another "
                         "column")

    def _arithmetic(self, node: exp.Expr) -> str:
        op = ARITHMETIC[type(node)]
        left, right = self.infer(node.this), self.infer(node.expression)
        if op in "+-" and "interval" in (left, right):
            time = right if left == "interval" else left
            if time in TEMPORAL and not (op == "-" and left == "interval"):
                return "timestamp"
            raise self._operands(op, [left, right])
        if left not in (*NUMERIC, "null") or right not in (*NUMERIC, "null") or (
                left == right == "null"):
            raise self._operands(op, [left, right])
        if op == "/":
            return "float64"
        if op == "//":
            return "int64" if "float64" not in (left, right) else "float64"
        return common_type(left, right) or "float64"

    def _comparable(self, a_node: exp.Expr, a: str, b_node: exp.Expr, b: str) -> bool:
        if common_type(a, b) is not None:
            return True
        # a quoted time compared with a time column: '2024-01-01' < ts
        text_time = ((isinstance(a_node, exp.Literal) and a_node.is_string and b in TEMPORAL)
                     or (isinstance(b_node, exp.Literal) and b_node.is_string
                         and a in TEMPORAL))
        return text_time or {a, b} == set(TEMPORAL)

    def _comparison(self, node: exp.Expr, left: exp.Expr, right: exp.Expr) -> str:
        a, b = self.infer(left), self.infer(right)
        if not self._comparable(left, a, right, b):
            raise self.fail("compares values of different types", got=f"{node.sql(DIALECT)} "
                            f"({a} and {b})", fix="compare like with like, or CAST one side")
        return "bool"

    def _logic(self, node: exp.Expr) -> str:
        for part in node.iter_expressions():
            found = self.infer(part)
            if found not in ("bool", "null"):
                raise self.fail("AND, OR and NOT need true/false operands",
                                got=f"{part.sql(DIALECT)} ({found})",
                                fix="compare it, e.g. amount > 0")
        return "bool"

    def _is(self, node: exp.Expr) -> str:
        self.infer(node.this)
        return "bool"

    def _text_match(self, node: exp.Expr) -> str:
        for part in (node.this, node.expression):
            found = self.infer(part)
            if found not in ("string", "null"):
                raise self.fail("LIKE needs text", got=f"{part.sql(DIALECT)} ({found})",
                                fix="CAST(col AS VARCHAR) LIKE '...'")
        self._literal_argument(node, "LIKE", node.expression)
        return "bool"

    def _literal_argument(self, node: exp.Expr, name: str, argument: exp.Expr) -> None:
        if not _constant(argument):
            raise self.fail(f"{name}'s pattern, unit or length must be a constant",
                            got=node.sql(DIALECT)[:80],
                            fix="write it as a literal, e.g. 'abc%' or 'day'")

    def _concat(self, node: exp.Expr) -> str:
        for part in node.iter_expressions():
            found = self.infer(part)
            if found not in ("string", "null"):
                raise self.fail("|| and concat() join text", got=f"{part.sql(DIALECT)} "
                                f"({found})", fix="CAST(col AS VARCHAR) || '...'")
        return "string"

    def _in(self, node: exp.Expr) -> str:
        if node.args.get("query") is not None or node.args.get("unnest") is not None:
            raise self.fail("IN takes a list of values", got=node.sql(DIALECT)[:80],
                            fix="write col IN (1, 2, 3)")
        for value in node.expressions:
            self._comparison(node, node.this, value)
        return "bool"

    def _between(self, node: exp.Expr) -> str:
        for bound in (node.args["low"], node.args["high"]):
            self._comparison(node, node.this, bound)
        return "bool"

    def _case(self, node: exp.Expr) -> str:
        ifs = (node.args.get("ifs") or []) if isinstance(node, exp.Case) else [node]
        subject = node.this if isinstance(node, exp.Case) else None
        result = "null"
        for branch in ifs:
            if subject is not None:
                self._comparison(node, subject, branch.this)
            else:
                cond = self.infer(branch.this)
                if cond not in ("bool", "null"):
                    raise self.fail("a CASE condition must be true/false",
                                    got=f"{branch.this.sql(DIALECT)} ({cond})",
                                    fix="compare it, e.g. WHEN amount > 0 THEN ...")
            result = self._meet(node, result, self.infer(branch.args["true"]))
        default = node.args.get("default") if isinstance(node, exp.Case) else node.args.get(
            "false")
        if default is not None:
            result = self._meet(node, result, self.infer(default))
        return result

    def _meet(self, node: exp.Expr, a: str, b: str) -> str:
        found = common_type(a, b)
        if found is None:
            raise self.fail("gives values of different types", got=f"{node.sql(DIALECT)[:80]} "
                            f"({a} and {b})", fix="CAST the branches to one type")
        return found

    def _common_of(self, node: exp.Expr) -> str:
        result = "null"
        for part in [node.this, *node.expressions]:
            result = self._meet(node, result, self.infer(part))
        return result

    def _nullif(self, node: exp.Expr) -> str:
        self._comparison(node, node.this, node.expression)
        return self.infer(node.this)

    def _cast(self, node: exp.Expr) -> str:
        source = self.infer(node.this)
        target = node.args["to"]
        found = CASTS.get(target.this)
        if found is None or target.expressions:
            raise self.fail("casts to a type features cannot hold", got=target.sql(DIALECT),
                            fix="cast to BIGINT, INTEGER, DOUBLE, VARCHAR, BOOLEAN, TIMESTAMP "
                            "or DATE")
        if not _castable(source, found):
            raise self.fail(f"casts {source} to {found}, which engines do not do alike",
                            got=node.sql(DIALECT)[:80], fix="cast numbers and booleans to "
                            "each other, whole numbers, booleans and dates to text, dates and "
                            "timestamps to each other; declare a text column holding numbers "
                            "or times with its type in the source's schema (ingestion "
                            "coerces it)")
        return found

    def _function(self, node: exp.Expr) -> str:
        sig = FUNCTIONS[type(node)]
        for key in sig.literals:
            argument = node.args.get(key)
            if argument is not None:
                self._literal_argument(node, f"{sig.name}()", argument)
        args = [a for a in node.iter_expressions() if not isinstance(a, exp.Var)]
        types = [self.infer(a) for a in args]
        main = node.this if isinstance(node.this, exp.Expr) else None
        if sig.first is not None and main is not None and not isinstance(main, exp.Var):
            found = types[args.index(main)] if main in args else self.infer(main)
            if found not in (*sig.first, "null"):
                raise self.fail(f"{sig.name}() needs {' or '.join(sig.first)}",
                                got=f"{node.sql(DIALECT)[:80]} ({found})",
                                fix="pass a column of that type, or CAST it")
            if sig.result == "same":
                return found if found != "null" else "float64"
        if isinstance(node, exp.TimestampTrunc | exp.DateTrunc):
            unit = node.args.get("unit")
            if unit is None or unit.name.lower() not in TRUNC_UNITS:
                raise self.fail("date_trunc() takes one of the units " + ", ".join(
                    TRUNC_UNITS), got=node.sql(DIALECT)[:80], fix="write e.g. "
                    "date_trunc('day', ts)")
        for key in sig.literals:
            part = node.args.get(key)
            if isinstance(part, exp.Literal) and not part.is_string:
                raise self.fail(f"{sig.name}()'s pattern or unit must be text",
                                got=part.sql(DIALECT), fix="quote it: 'abc'")
        return "float64" if sig.result == "same" else sig.result


# cast target -> the source types it takes (those every engine casts alike)
_TO: dict[str, tuple[str, ...]] = {
    "int64": ("int64", "float64", "bool", "null"),
    "float64": ("int64", "float64", "bool", "null"),
    "bool": ("int64", "float64", "bool", "null"),
    "string": ("int64", "bool", "string", "date", "null"),
    "date": ("date", "timestamp", "null"),
    "timestamp": ("date", "timestamp", "null"),
}


def _castable(source: str, target: str) -> bool:
    return source in _TO.get(target, ())

"""User expressions (feature filters and derived columns), checked when they are defined.

An expression is SQL text in the DuckDB dialect, over the source's columns. It is
parsed here only to check it: one expression, no subqueries or statements, only known
columns, only the functions of :data:`ALLOWED_FUNCTIONS` (ones every engine can run
the same way), and operands of fitting types. :func:`type_of` gives the result type.

>>> columns_of("hour(tx_datetime) <= 6", where="derive 'is_night'")
['tx_datetime']
>>> columns_of("amount > (SELECT 1)", where="where")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: where: must be one expression over columns, without ...
>>> type_of("amount * 2", {"amount": "int64"}, where="derive 'double'")
'int64'
>>> type_of("amount / 2", {"amount": "int64"}, where="derive 'half'")
'float64'
>>> type_of("hour(ts) <= 6", {"ts": "timestamp"}, where="where")
'bool'
>>> type_of("card + 1", {"card": "string"}, where="derive 'x'")
Traceback (most recent call last):
...
confluens.errors.DefinitionError: derive 'x': + needs numbers (or a time and an interval);
got 'card + 1 (string and int64)'...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import sqlglot
import sqlglot.expressions as exp

from confluens.errors import DefinitionError

__all__ = ["ALLOWED_FUNCTIONS", "columns_of", "parse_expression", "type_of"]

DIALECT = "duckdb"
_FORBIDDEN = (exp.Select, exp.Subquery, exp.Command, exp.Create, exp.Drop, exp.Insert,
              exp.Update, exp.Delete, exp.Table, exp.Star)

NUMERIC = ("int64", "float64")
TEMPORAL = ("timestamp", "date")

# function -> (its name in messages, what its first argument must be, its result type);
# "same" keeps the first argument's type. Every one runs alike in DuckDB and Python.
_Sig = tuple[str, tuple[str, ...] | None, str]
_FUNCTIONS: dict[type[exp.Expr], _Sig] = {
    exp.Abs: ("abs", NUMERIC, "same"), exp.Sign: ("sign", NUMERIC, "int64"),
    exp.Round: ("round", NUMERIC, "same"), exp.Floor: ("floor", NUMERIC, "float64"),
    exp.Ceil: ("ceil", NUMERIC, "float64"), exp.Sqrt: ("sqrt", NUMERIC, "float64"),
    exp.Ln: ("ln", NUMERIC, "float64"), exp.Log: ("log", NUMERIC, "float64"),
    exp.Exp: ("exp", NUMERIC, "float64"), exp.Pow: ("pow", NUMERIC, "float64"),
    exp.IsNan: ("isnan", ("float64",), "bool"), exp.IsInf: ("isinf", ("float64",), "bool"),
    exp.Lower: ("lower", ("string",), "string"), exp.Upper: ("upper", ("string",), "string"),
    exp.Length: ("length", ("string",), "int64"), exp.Trim: ("trim", ("string",), "string"),
    exp.Substring: ("substr", ("string",), "string"),
    exp.Replace: ("replace", ("string",), "string"),
    exp.Left: ("left", ("string",), "string"), exp.Right: ("right", ("string",), "string"),
    exp.StartsWith: ("starts_with", ("string",), "bool"),
    exp.Contains: ("contains", ("string",), "bool"),
    exp.RegexpLike: ("regexp_matches", ("string",), "bool"),
    exp.Concat: ("concat", None, "string"), exp.DPipe: ("||", None, "string"),
    exp.TimeToStr: ("strftime", TEMPORAL, "string"),
    exp.Hour: ("hour", TEMPORAL, "int64"), exp.Minute: ("minute", TEMPORAL, "int64"),
    exp.Second: ("second", TEMPORAL, "int64"), exp.Day: ("day", TEMPORAL, "int64"),
    exp.DayOfMonth: ("dayofmonth", TEMPORAL, "int64"),
    exp.Month: ("month", TEMPORAL, "int64"), exp.Year: ("year", TEMPORAL, "int64"),
    exp.Quarter: ("quarter", TEMPORAL, "int64"), exp.Week: ("week", TEMPORAL, "int64"),
    exp.DayOfWeek: ("dayofweek", TEMPORAL, "int64"),
    exp.DayOfWeekIso: ("isodow", TEMPORAL, "int64"),
    exp.DayOfYear: ("dayofyear", TEMPORAL, "int64"),
    exp.TimestampTrunc: ("date_trunc", TEMPORAL, "timestamp"),
    exp.TimeToUnix: ("epoch", TEMPORAL, "float64"),
    exp.DateDiff: ("date_diff", TEMPORAL, "int64"),
}
ALLOWED_FUNCTIONS: tuple[str, ...] = tuple(sorted(
    {sig[0] for sig in _FUNCTIONS.values()} | {"coalesce", "nullif", "greatest", "least",
                                                "if", "cast", "try_cast"}))
_CASTS: dict[str, tuple[object, ...]] = {
    "int64": (exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
              exp.DataType.Type.BIGINT),
    "float64": (exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE),
    "string": (exp.DataType.Type.VARCHAR, exp.DataType.Type.TEXT),
    "bool": (exp.DataType.Type.BOOLEAN,),
    "timestamp": (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPTZ),
    "date": (exp.DataType.Type.DATE,),
}
_ARITHMETIC: dict[type[exp.Expr], str] = {
    exp.Add: "+", exp.Sub: "-", exp.Mul: "*", exp.Div: "/", exp.IntDiv: "//", exp.Mod: "%"}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.NullSafeEQ,
                exp.NullSafeNEQ)


def parse_expression(text: object, where: str) -> exp.Expr:
    """Parse one SQL expression, or raise DefinitionError naming ``where``."""
    fix = "write one SQL expression, e.g. \"tx_amount > 100\" or \"hour(tx_datetime) <= 6\""
    if not isinstance(text, str) or not text.strip():
        raise DefinitionError(where, "must be a non-empty SQL expression", got=text, fix=fix)
    try:
        parsed = sqlglot.parse(text, dialect=DIALECT)
    except sqlglot.errors.SqlglotError as exc:
        raise DefinitionError(where, f"does not parse ({str(exc).splitlines()[0]})", got=text,
                              fix=fix) from None
    except RecursionError:
        raise DefinitionError(where, "is nested too deeply to parse", got=text[:80],
                              fix="write a flatter expression") from None
    if len(parsed) != 1 or parsed[0] is None or any(
            isinstance(node, _FORBIDDEN) for node in parsed[0].walk()):
        raise DefinitionError(where, "must be one expression over columns, without subqueries "
                              "or statements", got=text, fix=fix)
    return parsed[0]


def columns_of(text: object, where: str) -> list[str]:
    """The columns an expression reads, in order of first use."""
    names: list[str] = []
    for column in parse_expression(text, where).find_all(exp.Column):
        if column.name not in names:
            names.append(column.name)
    return names


def type_of(text: str, columns: Mapping[str, str], where: str) -> str:
    """The type of expression ``text`` over ``columns`` (name -> type name): one of
    int64, float64, string, bool, timestamp, date, or null (the NULL literal).

    Raises DefinitionError for an unknown column or function, or operands that do not fit.
    """
    tree = parse_expression(text, where)
    try:
        return _Typer(text, columns, where).infer(tree)
    except RecursionError:
        raise DefinitionError(where, "is nested too deeply to check", got=text[:80],
                              fix="write a flatter expression") from None


def _common(a: str, b: str) -> str | None:
    """The type two values meet in (a CASE's branches, COALESCE's arguments)."""
    if a == "null":
        return b
    if b == "null" or a == b:
        return a
    if a in NUMERIC and b in NUMERIC:
        return "float64"
    return None


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
        if type(node) in _ARITHMETIC:
            return self._arithmetic(node)
        if isinstance(node, _COMPARISONS):
            return self._comparison(node, node.this, node.expression)
        if type(node) in _FUNCTIONS:
            return self._function(node)
        if isinstance(node, exp.Func):
            name = node.sql_name().lower() if not isinstance(node, exp.Anonymous) else str(
                node.this).lower()
            raise self.fail("calls a function that is not allowed (aggregates, window "
                            "functions, random and engine-specific functions are not)",
                            got=name, fix="use one of " + ", ".join(ALLOWED_FUNCTIONS))
        raise self.fail("uses an operation that is not allowed",
                        got=node.sql(DIALECT)[:80], fix="use arithmetic, comparisons, AND/OR/"
                        "NOT, CASE, CAST and the functions " + ", ".join(ALLOWED_FUNCTIONS))

    def _handlers(self) -> dict[type[exp.Expr], Callable[[exp.Expr], str]]:
        return {
            exp.Column: self._column, exp.Literal: self._literal,
            exp.Null: lambda _: "null", exp.Boolean: lambda _: "bool",
            exp.Paren: lambda n: self.infer(n.this), exp.Neg: self._negative,
            exp.Interval: lambda _: "interval",
            exp.And: self._logic, exp.Or: self._logic, exp.Not: self._logic,
            exp.Is: self._is, exp.Like: self._text_match, exp.ILike: self._text_match,
            exp.In: self._in, exp.Between: self._between, exp.Case: self._case,
            exp.If: self._case, exp.Coalesce: self._common_of,
            exp.Greatest: self._common_of, exp.Least: self._common_of,
            exp.Nullif: self._nullif,
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

    def _operands(self, op: str, types: list[str]) -> DefinitionError:
        return self.fail(f"{op} needs numbers (or a time and an interval)",
                         got=f"{self.text} ({' and '.join(types)})",
                         fix="cast the operands, e.g. CAST(col AS DOUBLE), or use another "
                         "column")

    def _arithmetic(self, node: exp.Expr) -> str:
        op = _ARITHMETIC[type(node)]
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
        return _common(left, right) or "float64"

    def _comparable(self, a_node: exp.Expr, a: str, b_node: exp.Expr, b: str) -> bool:
        if _common(a, b) is not None:
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
        return "bool"

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
        found = _common(a, b)
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
        self.infer(node.this)
        target = node.args["to"]
        for name, kinds in _CASTS.items():
            if target.this in kinds:
                return name
        raise self.fail("casts to a type features cannot hold", got=target.sql(DIALECT),
                        fix="cast to BIGINT, DOUBLE, VARCHAR, BOOLEAN, TIMESTAMP or DATE")

    def _function(self, node: exp.Expr) -> str:
        name, first, result = _FUNCTIONS[type(node)]
        args = [a for a in node.iter_expressions() if not isinstance(a, exp.Var)]
        types = [self.infer(a) for a in args]
        main = node.this if isinstance(node.this, exp.Expr) else None
        if first is not None and main is not None and not isinstance(main, exp.Var):
            found = types[args.index(main)] if main in args else self.infer(main)
            if found not in (*first, "null"):
                raise self.fail(f"{name}() needs {' or '.join(first)}",
                                got=f"{node.sql(DIALECT)[:80]} ({found})",
                                fix="pass a column of that type, or CAST it")
            if result == "same":
                return found if found != "null" else "float64"
        return "float64" if result == "same" else result

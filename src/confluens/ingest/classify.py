"""Stage one of ingestion: type every record and find the rules it breaks.

Builds, from the raw chunk table, a table ``typed`` with the schema's typed
columns and, per record:

- ``__reason``: every broken quarantine rule with what was wrong, '; '-joined;
- ``__rule``: the first broken rule; ``__rules``: all of them (a list);
- ``__rejected``: whether any quarantine rule broke;
- one boolean ``__warn_<i>`` per warn-only check (True where it failed).

Rules are tried in this order: the record could not be parsed (``parse``); a
required column is missing (``required:<column>``: event time, id, known-at);
a value does not fit its type (``type:<column>``), a timestamp lies outside the
source's time range (``time_range:<column>``) or a float is not finite
(``finite:<column>``); then the checks, in the order they are declared.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot.expressions as exp

from confluens.connectors.chunk import PARSE_ERROR, RECORD, ROW
from confluens.core import Check, DType, Field, OnFail, Source, Unique
from confluens.ingest.coerce import Coerced, coerce, nonfinite, out_of_time_range
from confluens.ingest.rules import pass_condition
from confluens.plan.column_types import SQL_TYPES
from confluens.sqlx import col, func, ident, lit, table_ref

__all__ = ["Rule", "raw_json", "raw_record", "typed_select", "verdict_select"]


@dataclass(frozen=True)
class Rule:
    """A rule as evaluated: its name, and SQL giving the reason where it fails, else NULL."""

    name: str
    reason: exp.Expr
    on_fail: OnFail = OnFail.QUARANTINE


def raw_json(raw_names: list[str], raw: str = "raw") -> exp.Expr:
    """A record's raw values (the columns of table ``raw``) as the text of a JSON object."""
    return exp.cast(func("to_json", exp.Struct(expressions=[
        exp.PropertyEQ(this=ident(name), expression=col(name, raw)) for name in raw_names])),
        "VARCHAR")


def raw_record(raw_names: list[str], raw: str = "raw") -> exp.Expr:
    """The record as it arrived: its raw text, else its raw values as a JSON object."""
    return exp.Coalesce(this=col(RECORD, raw), expressions=[raw_json(raw_names, raw)])


def _text(value: exp.Expr) -> exp.Expr:
    return exp.Coalesce(this=exp.cast(value, "VARCHAR"), expressions=[lit("null")])


def _when(cond: exp.Expr, reason: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=cond, true=reason)])


def typed_select(source: Source, raw_types: dict[str, str], raw: str = "raw") -> exp.Select:
    """SELECT over the raw chunk giving typed columns, the record text and early rules."""
    present = [f for f in source.schema if f.input_name in raw_types]
    # only __row rides along: the raw text and values stay in the raw table, which the
    # stage reads (by __row) for the few records bound for quarantine
    columns: list[exp.Expr] = [exp.alias_(col(ROW, raw), ROW, quoted=True)]
    parsed = exp.Is(this=col(PARSE_ERROR, raw), expression=exp.null())
    reasons: list[Rule] = []
    required = [c for c in (source.event_time, source.id, source.known_at) if c]
    helpers: dict[str, exp.Expr] = {}
    for i, field in enumerate(source.schema):
        coerced = (coerce(field, raw, source.epoch_unit, key=f"__coerce_{i}")
                   if field in present else None)
        helpers.update(coerced.helpers if coerced else {})
        value = coerced.value if coerced else exp.cast(exp.null(), "VARCHAR")
        columns.append(exp.alias_(exp.cast(value, SQL_TYPES[field.dtype]), field.name,
                                  quoted=True, copy=False))
        if field.name in required:
            missing = (exp.Is(this=col(field.input_name, raw), expression=exp.null())
                       if field in present else exp.true())
            reasons.append(Rule(f"required:{field.name}", _when(
                missing,
                lit(f"required:{field.name}: {field.name} is missing"))))
        if coerced is not None:
            reasons.extend(_value_rules(source, field, coerced, raw))
    # a record that could not be parsed breaks only the parse rule
    reasons = [Rule(r.name, _when(parsed.copy(), r.reason), r.on_fail) for r in reasons]
    reasons.insert(0, Rule("parse", _when(exp.Not(this=parsed.copy()), exp.DPipe(
        this=lit("parse: "), expression=col(PARSE_ERROR, raw), safe=True))))
    source_table: exp.Expr = table_ref(raw)
    if helpers:  # computed once per record, under the raw table's own name
        inner = exp.select(exp.Star(), *[exp.alias_(e, name, quoted=True, copy=False)
                                         for name, e in helpers.items()], copy=False).from_(
            table_ref(raw), copy=False)
        source_table = exp.Subquery(this=inner, alias=exp.TableAlias(
            this=ident(raw)))
    return _with_reasons(columns, reasons).from_(source_table, copy=False)


def _quoted(prefix: str, value: exp.Expr, suffix: exp.Expr | str) -> exp.Expr:
    """``prefix'value'suffix`` as SQL text."""
    tail = lit(suffix) if isinstance(suffix, str) else suffix
    return exp.DPipe(this=exp.DPipe(this=lit(f"{prefix}'"), expression=value, safe=True),
                     expression=exp.DPipe(this=lit("'"), expression=tail, safe=True), safe=True)


def _value_rules(source: Source, field: Field, coerced: Coerced, raw: str) -> list[Rule]:
    """The rules one present value can break: its type, then its time range or finiteness."""
    shown = exp.cast(col(field.input_name, raw), "VARCHAR")
    rules = [Rule(f"type:{field.name}", _when(coerced.failed, _quoted(
        f"type:{field.name}: ", shown, f" is not a valid {field.dtype.value}")))]
    if field.dtype is DType.TIMESTAMP:
        start, end = (t.isoformat(sep=" ") for t in source.time_range)
        suffix: exp.Expr = lit(f" is outside the source's time_range [{start}, {end})")
        if coerced.epoch_number is not None:
            unit = _UNIT_NAMES[source.epoch_unit]
            hint = _when(coerced.epoch_number.copy(), lit(
                f" when read as {unit} since 1970-01-01 (set epoch_unit= if it counts "
                "another unit)"))
            suffix = exp.DPipe(this=suffix, expression=exp.Coalesce(
                this=hint, expressions=[lit("")]), safe=True)
        rules.append(Rule(f"time_range:{field.name}", _when(
            out_of_time_range(coerced, col(field.input_name, raw), source.time_range),
            _quoted(f"time_range:{field.name}: ", shown.copy(), suffix))))
    not_finite = nonfinite(field, coerced.value)
    if not_finite is not None:
        rules.append(Rule(f"finite:{field.name}", _when(not_finite, _quoted(
            f"finite:{field.name}: ", shown.copy(), " is not a finite number (declare the "
            "field with allow_nonfinite=True to store NaN and infinities)"))))
    return rules


_UNIT_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}


def _with_reasons(columns: list[exp.Expr], rules: list[Rule],
                  carried: tuple[exp.Expr, exp.Expr] | None = None) -> exp.Select:
    """Add __reason, __rule, __rules over ``rules`` (continuing ``carried`` ones if given)."""
    reasons = [r.reason for r in rules if r.on_fail is OnFail.QUARANTINE]
    names = [_when(exp.Not(this=exp.Is(this=r.reason.copy(), expression=exp.null())),
                   lit(r.name)) for r in rules if r.on_fail is OnFail.QUARANTINE]
    if carried is not None:
        reasons = [carried[0], *reasons]
    reason = func("nullif", func("concat_ws", lit("; "), *reasons), lit(""))
    rule_list = func("list_filter", exp.Array(expressions=names),
                     exp.Lambda(this=exp.Not(this=exp.Is(this=exp.column("x"),
                                                          expression=exp.null())),
                                expressions=[exp.to_identifier("x")]))
    if carried is not None:
        rule_list = func("list_concat", carried[1], rule_list)
    # most records break nothing: build the list only for those that do
    rule_list = exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=reason.copy(),
                                                              expression=exp.null())),
                                     true=rule_list)])
    warn = [exp.alias_(exp.Not(this=exp.Is(this=r.reason, expression=exp.null())),
                       f"__warn_{r.name}", quoted=True, copy=False)
            for r in rules if r.on_fail is OnFail.WARN]
    # the trees are new: the builders need not copy them (copy=False, here and below)
    return exp.select(*columns, exp.alias_(reason, "__reason", quoted=True, copy=False),
                      exp.alias_(rule_list, "__rules", quoted=True, copy=False), *warn,
                      copy=False)


def check_rule(check: Check, passed: exp.Expr) -> Rule:
    """A check as a rule, given its SQL pass condition."""
    shown = _text(col(check.column, "typed"))
    reason = exp.DPipe(this=exp.DPipe(this=lit(f"{check.rule}: expected {check.describe()}, "
                                               "got '"), expression=shown, safe=True),
                       expression=lit("'"), safe=True)
    return Rule(check.rule, _when(exp.Not(this=exp.Paren(this=passed)), reason), check.on_fail)


def verdict_select(source: Source, custom: dict[str, str], typed: str = "typed",
                   results: str = "custom") -> exp.Select:
    """SELECT over ``typed`` adding the checks' verdicts.

    ``custom`` maps a custom check's rule to its boolean column in table ``results``,
    which shares ``__row`` with ``typed``.
    """
    rules: list[Rule] = []
    for check in source.checks:
        if isinstance(check, Unique):
            continue
        if check.rule in custom:
            passed: exp.Expr = exp.Coalesce(this=col(custom[check.rule], results),
                                                  expressions=[exp.true()])
        else:
            cond = pass_condition(check, typed)
            assert cond is not None, check
            passed = cond
        rule = check_rule(check, passed)
        unparsed = exp.Coalesce(this=func("list_contains", col("__rules", typed), lit("parse")),
                                expressions=[exp.false()])
        rules.append(Rule(rule.name, _when(exp.Not(this=unparsed), rule.reason), rule.on_fail))
    keep = exp.Column(this=exp.Star(except_=[exp.column("__reason", quoted=True),
                                              exp.column("__rules", quoted=True)]),
                      table=ident(typed))
    query = _with_reasons([keep], rules, carried=(col("__reason", typed), col("__rules", typed)))
    query = query.from_(table_ref(typed), copy=False)
    if custom:
        query = query.join(table_ref(results), copy=False,
                           using=[ident(ROW)], join_type="left")
    return query

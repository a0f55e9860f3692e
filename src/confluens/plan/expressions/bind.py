"""Binding a view's expressions: each ``derive`` and ``where`` parsed and typed once.

:func:`check_view` runs when definitions load (``project/loader.py``; ``Project``
loads through it): it types the derived columns in order, each over the source's
columns and the derived ones before it, then every filter over them all, and then
asks the view to check its features' column types now that derived columns have
one (``FeatureView.check_column_types``). Its errors are the definition errors a
user gets at ``confluens apply``: the view, the derived column or feature, the rule,
the value and the fix.

:func:`bind` gives the same :class:`BoundExpressions` for a lowered plan's view, once
per plan (cached by identity, as ``ir.lower`` is): the side table the engines read the
parsed trees from, keyed by derived column name and by filter text. ``plan/ir.py``
stays free of sqlglot: a plan holds only the texts and the source's column types.

>>> from confluens.core import Count, Entity, FeatureView, Source
>>> tx = Source("tx", {"id": "int64", "ts": "timestamp", "c": "string", "a": "float64"},
...             "ts", id="id")
>>> view = FeatureView("v", Entity("c", ["c"]), tx,
...                    [Count(window="1d", where="night AND a > 1", name="n")],
...                    derive={"night": "hour(ts) <= 6"})
>>> bound = check_view(view)
>>> bound.derived("night").dtype, bound.filter("night AND a > 1").columns
('bool', ('night', 'a'))
>>> FeatureView("w", Entity("c", ["c"]), tx, [Count(window="1d", where="b > 1", name="n")])
FeatureView(name='w', ...)
>>> check_view(_)
Traceback (most recent call last):
...
confluens.errors.DefinitionError: FeatureView 'w': feature 'n' reads a column the source does
not have; got 'b'...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from confluens.core import FeatureView
from confluens.errors import DefinitionError
from confluens.plan.expressions.typed import TypedExpression, typed_expression
from confluens.plan.ir import RatioOf, ViewPlan

__all__ = ["BoundExpressions", "bind", "check_view"]


@dataclass(frozen=True, slots=True)
class BoundExpressions:
    """A view's expressions, typed: ``derive`` in order, ``filters`` by their text, and
    ``types``, every column's type (source and derived)."""

    derive: tuple[tuple[str, TypedExpression], ...]
    filters: Mapping[str, TypedExpression]
    types: Mapping[str, str]

    def derived(self, name: str) -> TypedExpression:
        return dict(self.derive)[name]

    def filter(self, text: str) -> TypedExpression:
        return self.filters[text]


def _bind(view: str, types: Mapping[str, str], derive: Iterable[tuple[str, str]],
          filters: Iterable[tuple[str, str]]) -> BoundExpressions:
    """``view``: how errors name the view; ``filters``: (feature name, where text)."""
    known = dict(types)
    derived: list[tuple[str, TypedExpression]] = []
    for name, text in derive:
        where = f"{view} derive '{name}'"
        typed = typed_expression(text, _Columns(known, view, f"derived column '{name}'"),
                                 where)
        if typed.dtype in ("null", "interval"):
            raise DefinitionError(where, "must give a value of a column type (not always "
                                  "NULL, not an INTERVAL)", got=text,
                                  fix="write e.g. CAST(NULL AS DOUBLE), or use an "
                                  "interval only next to a time: ts - INTERVAL 1 DAY")
        derived.append((name, typed))
        known[name] = typed.dtype
    by_text: dict[str, TypedExpression] = {}
    for feature, text in filters:
        where = f"{view} feature '{feature}' where"
        typed = typed_expression(text, _Columns(known, view, f"feature '{feature}'"), where)
        if typed.dtype not in ("bool", "null"):
            raise DefinitionError(where, "must be true/false", got=f"{text} ({typed.dtype})",
                                  fix="compare it, e.g. \"amount > 0\"")
        by_text.setdefault(text, typed)
    return BoundExpressions(tuple(derived), by_text, known)


class _Columns(dict[str, str]):
    """The columns an expression may read; reading another names the view and the
    derived column or feature, as the view's own column checks do."""

    def __init__(self, types: Mapping[str, str], view: str, thing: str) -> None:
        super().__init__(types)
        self.view, self.thing = view, thing

    def get(self, key: str, default: object = None) -> str:
        found = super().get(key)
        if found is None:
            raise DefinitionError(self.view, f"{self.thing} reads a column the source does "
                                  "not have", got=key, fix=f"use one of {list(self)}")
        return found


def check_view(view: FeatureView) -> BoundExpressions:
    """Type ``view``'s expressions and its features' columns; DefinitionError if any is
    wrong (see the module's docstring)."""
    filters = [(feature.feature_name, part.where) for feature in view.features
               for part in (feature.parts if hasattr(feature, "parts") else (feature,))
               if part.where is not None]
    bound = _bind(view._where, {f.name: f.dtype.value for f in view.source.schema},
                  view.derive, filters)
    view.check_column_types(bound.types)
    return bound


_BOUND: dict[int, tuple[ViewPlan, BoundExpressions]] = {}


def bind(plan: ViewPlan) -> BoundExpressions:
    """The typed expressions of ``plan``, parsed once per plan (cached by identity)."""
    found = _BOUND.get(id(plan))
    if found is None or found[0] is not plan:
        if len(_BOUND) > 1024:
            _BOUND.clear()
        filters = [(f.output, agg.where) for f in plan.features
                   for agg in ((f.numerator, f.denominator) if isinstance(f, RatioOf) else (f,))
                   if agg.where is not None]
        types = dict(plan.types) or {c: "unknown" for c in plan.columns}
        found = _BOUND[id(plan)] = (plan, _bind(f"FeatureView '{plan.name}'", types,
                                                plan.derive, filters))
    return found[1]

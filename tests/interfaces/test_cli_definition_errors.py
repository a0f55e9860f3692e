"""The issue's definitions that `apply` accepted and `materialize` crashed on: now
`confluens apply` refuses each with one message naming the view and the feature (or
derived column), the rule, the value and the fix; no traceback, exit code 2."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from confluens.interfaces.cli import cli

DEFINITIONS = '''
from confluens import Count, Entity, FeatureView, Mean, Source, Sum

tx = Source("transactions", {{"transaction_id": "int64", "tx_datetime": "timestamp",
                              "customer_id": "string", "terminal_id": "string",
                              "tx_amount": "float64"}},
            "tx_datetime", id="transaction_id")
customer = Entity("customer", ["customer_id"])
spend = FeatureView("customer_spending", customer, tx, [{feature}], derive={derive})
'''


@pytest.mark.parametrize(("feature", "derive", "message"), [
    ('Mean("terminal_id", window="7d")', "{}",
     "FeatureView 'customer_spending' feature 'terminal_id_mean_7d': mean needs a column of "
     "type int64 or float64; got 'terminal_id (string)'."),
    ('Sum("customer_id", window="7d")', "{}",
     "FeatureView 'customer_spending' feature 'customer_id_sum_7d': may not aggregate an "
     "entity key column (it has one value per entity); got 'customer_id'."),
    ('Sum("x", window="7d")', '{"x": "nofunc(tx_amount)"}',
     "FeatureView 'customer_spending' derive 'x': calls a function that is not allowed"),
    ('Count(window="7d", where="tx_amount > \'x\'", name="n")', "{}",
     "FeatureView 'customer_spending' feature 'n' where: compares values of different "
     "types; got \"tx_amount > 'x' (float64 and string)\"."),
    ('Count(window="7d", where="amount > 1", name="n")', "{}",
     "FeatureView 'customer_spending': feature 'n' reads a column the source does not "
     "have; got 'amount'."),
    ('Count(window="100000000w")', "{}",
     "FeatureView 'customer_spending' feature 'count_700000000d': a window may be at most "
     "36,525 days (100 years); got '700000000d'. Fix: shorten the window, e.g. '36525d'."),
])
def test_apply_refuses_what_materialize_would_crash_on(tmp_path: Path, feature: str,
                                                       derive: str, message: str) -> None:
    (tmp_path / "confluens.toml").write_text("")
    (tmp_path / "definitions.py").write_text(textwrap.dedent(
        DEFINITIONS.format(feature=feature, derive=derive)))
    result = CliRunner().invoke(cli, ["apply", "--project", str(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert f"error: {message}" in text
    assert "Fix:" in text
    assert "Traceback" not in text
    assert isinstance(result.exception, SystemExit)


def test_materialize_names_the_expression_that_fails_on_the_data(tmp_path: Path) -> None:
    """A derive that passes the checks but fails on a stored value (a division by a
    stored 0) stops materialize with one message naming view, expression and feature."""
    (tmp_path / "confluens.toml").write_text("")
    (tmp_path / "definitions.py").write_text(textwrap.dedent('''
        from confluens import Entity, FeatureView, Source, Sum

        tx = Source("tx", {"id": "int64", "ts": "timestamp", "card": "string",
                           "code": "int64"}, "ts", id="id")
        codes = FeatureView("codes", Entity("card", ["card"]), tx,
                            [Sum("code_number", window="7d")],
                            derive={"code_number": "100 // code"})
    '''))
    (tmp_path / "tx.csv").write_text("id,ts,card,code\n1,2024-01-01T00:00:00Z,a,7\n"
                                     "2,2024-01-02T00:00:00Z,a,0\n")
    runner = CliRunner()
    for args in (["apply"], ["ingest", "tx", "tx.csv"]):
        assert runner.invoke(cli, [*args, "--project", str(tmp_path)]).exit_code == 0
    result = runner.invoke(cli, ["materialize", "--project", str(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 2, text
    assert ("error: feature view 'codes' derive 'code_number' (read by feature "
            "'code_number_sum_7d'): failed on the stored events: Invalid Input Error: "
            "Division by zero") in text
    assert "got '100 // code'" in text
    assert "CASE WHEN" in text
    assert "Traceback" not in text


def test_a_syntax_error_in_definitions_shows_the_users_line_not_confluens_frames(
        tmp_path: Path) -> None:
    (tmp_path / "confluens.toml").write_text("")
    (tmp_path / "definitions.py").write_text("from confluens import Source\n\n"
                                             "x = [1, 2\ny = 3)\n")
    result = CliRunner().invoke(cli, ["apply", "--project", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "definitions.py\", line 4" in result.output
    assert "SyntaxError" in result.output
    assert "confluens/project" not in result.output
    assert "confluens/core" not in result.output
    assert "<frozen importlib" not in result.output

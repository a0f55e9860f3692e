"""Fuzzing the command line: hypothesis writes the arguments (odd paths, time zones,
times, filters deeply nested or full of rich markup, keys, numbers) and every command
must end with exit code 0, or 2 and a message; never a traceback, never an internal
error (exit 3)."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from confluens.interfaces.cli import cli
from tests.interfaces.cli_helpers import make_fraud_project

FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])

MARKUP = st.sampled_from(["[bold red]X[/]", "[online]", "[/]", "[abc]", "\\[", "[link=x]y",
                          "[", "]"])
WEIRD = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)),
                max_size=30)
TEXT = st.one_of(WEIRD, MARKUP, st.builds("".join, st.lists(st.one_of(MARKUP, WEIRD),
                                                            max_size=4)))

PATHS = st.one_of(
    TEXT,
    st.sampled_from(["", ".", "..", "/", "/nonexistent/x.parquet", "data", "data/",
                     "data/transactions/*.parquet", "data/[abc]*.csv", "~/x.csv",
                     "definitions.py", "confluens.toml", "a\x00b.csv", "x" * 300 + ".csv",
                     "data/late_batch.csv", "spine dir/s.parquet", "ü/ñ.parquet"]))

ZONES = st.one_of(TEXT, st.sampled_from(["UTC", "Europe/Paris", "Mars/Olympus", "../etc",
                                         "+02:00", "America/New_York", "utc", "Etc/GMT+3",
                                         "/etc/localtime", "\x00"]))

TIMES = st.one_of(
    TEXT,
    st.sampled_from(["2018-04-03T00:00:00Z", "2018-04-03", "2018-04-03T00:00:00+25:00",
                     "0001-01-01T00:00:00Z", "9999-12-31T23:59:59+00:00", "now", "-1",
                     "2018-02-30T00:00:00Z", "1522922400", "2018-04-03T00:00:00-14:00"]),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)

COLUMNS = ["tx_amount", "customer_id", "terminal_id", "transaction_id", "tx_datetime",
           "nope", "Customer ID"]
ATOMS = st.one_of(st.sampled_from(COLUMNS), st.integers(-10**20, 10**20).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr),
                  TEXT.map(lambda t: "'" + t.replace("'", "''") + "'"), MARKUP)


@st.composite
def wheres(draw: st.DrawFn) -> str:
    """Filters: plausible comparisons, joined, wrapped in up to 3,000 parentheses."""
    op = draw(st.sampled_from(["=", ">", "<", "<>", " AND ", " OR ", " LIKE ", " IN ",
                               " IS ", "+", "/", ";", " "]))
    core = f"{draw(ATOMS)}{op}{draw(ATOMS)}"
    depth = draw(st.one_of(st.integers(0, 40), st.sampled_from([3000])))
    return draw(st.one_of(st.just("(" * depth + core + ")" * depth), TEXT,
                          st.builds(lambda a, b: f"{a} AND {b}", st.just(core), TEXT)))


NUMBERS = st.one_of(st.integers(-(10**30), 10**30).map(str), TEXT,
                    st.sampled_from(["0", "-1", "1e9", "nan", "inf", "", "9" * 40]))
DURATIONS = st.one_of(TEXT, st.sampled_from(["7d", "0d", "1s", "100000000w", "-7d", "7",
                                             "d", "7 d", "1.5d", "99999999999999999999d"]))
KEYS = st.one_of(st.integers(-(10**20), 10**20).map(str), TEXT,
                 st.sampled_from(["17", "customer_id=17", "a=1,b=2", "=", "foo=1", ","]))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = make_fraud_project(tmp_path_factory.mktemp("fuzz") / "fraud")
    for source, path in (("fraud_labels", []), ("transactions", ["data/late_batch.csv"])):
        result = CliRunner().invoke(cli, ["ingest", source, *path, "--project", str(folder)])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["materialize", "--project", str(folder)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["spine", "transactions", "--out", "spine.parquet",
                                      "--project", str(folder)])
    assert result.exit_code == 0, result.output
    (folder / "spine.csv").write_text("customer_id,terminal_id,tx_datetime\n"
                                      "1,2,2018-04-03 10:00:00\n17,42,2018-04-04T12:00:00Z\n")
    return folder


def no_traceback(project: Path, *args: str) -> None:
    result = CliRunner().invoke(cli, [*args, "--project", str(project)])
    shown = f"confluens {' '.join(map(repr, args))}\n{result.output}"
    assert "Traceback" not in result.output, shown
    assert result.exit_code in (0, 2), shown
    if result.exit_code == 2:
        assert "rror" in result.output, shown  # "error:" (ours) or "Error:" (click's)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), shown


@FUZZ
@given(where=wheres())
def test_show_where(project: Path, where: str) -> None:
    no_traceback(project, "show", "transactions", "--where", where, "--limit", "3")


@FUZZ
@given(limit=NUMBERS, columns=st.one_of(st.none(), TEXT, st.sampled_from(COLUMNS)))
def test_show_limit_and_columns(project: Path, limit: str, columns: str | None) -> None:
    no_traceback(project, "show", "transactions", "--limit", limit,
                 *(["--columns", columns] if columns is not None else []))


@FUZZ
@given(source=st.one_of(st.sampled_from(["transactions", "fraud_labels"]), TEXT),
       last=st.one_of(st.none(), DURATIONS), start=st.one_of(st.none(), TIMES),
       end=st.one_of(st.none(), TIMES), where=st.one_of(st.none(), wheres()), out=PATHS)
def test_spine(project: Path, source: str, last: str | None, start: str | None,
               end: str | None, where: str | None, out: str) -> None:
    options = {"--last": last, "--start": start, "--end": end, "--where": where}
    args = [a for name, value in options.items() if value is not None for a in (name, value)]
    no_traceback(project, "spine", source, *args, "--out", f"fuzz/{out}")


@FUZZ
@given(spine=st.one_of(st.sampled_from(["spine.parquet", "spine.csv"]), PATHS),
       zone=st.one_of(st.none(), ZONES), as_of=st.one_of(st.none(), TIMES),
       at=st.one_of(st.none(), TEXT, st.sampled_from(["tx_datetime", "customer_id"])),
       features=st.one_of(st.sampled_from(["customer_spending", "terminal_risk:x",
                                                 ":", "customer_spending:customer_nb_tx_7d",
                                                 ",,", "[online]:x"]), TEXT))
def test_training_set(project: Path, spine: str, zone: str | None, as_of: str | None,
                      at: str | None, features: str) -> None:
    options = {"--timezone": zone, "--as-of": as_of, "--at": at}
    args = [a for name, value in options.items() if value is not None for a in (name, value)]
    no_traceback(project, "training-set", "--spine", spine, "-f", features, *args,
                 "--out", "fuzz/train.parquet")


@FUZZ
@given(view=st.one_of(st.sampled_from(["customer_spending", "terminal_risk"]), TEXT),
       keys=st.lists(KEYS, min_size=1, max_size=3), at=st.one_of(st.none(), TIMES))
def test_features_get(project: Path, view: str, keys: list[str], at: str | None) -> None:
    no_traceback(project, "features", "get", view, *keys,
                 *(["--at", at] if at is not None else []))


@FUZZ
@given(start=TIMES, end=TIMES)
def test_materialize_range(project: Path, start: str, end: str) -> None:
    no_traceback(project, "materialize", "customer_spending", "--start", start, "--end", end)


@FUZZ
@given(source=st.one_of(st.just("transactions"), TEXT), path=PATHS,
       query=st.one_of(st.none(), TEXT))
def test_ingest_paths(project: Path, source: str, path: str, query: str | None) -> None:
    no_traceback(project, "ingest", source, path, *(["--query", query] if query else []))


@FUZZ
@given(rule=st.one_of(st.none(), TEXT), limit=st.one_of(st.just("5"), NUMBERS),
       source=st.one_of(st.just("transactions"), TEXT))
def test_quarantine_list_and_runs(project: Path, rule: str | None, limit: str,
                                  source: str) -> None:
    no_traceback(project, "quarantine", "list", source, "--limit", limit,
                 *(["--rule", rule] if rule is not None else []))
    no_traceback(project, "runs", source)


@FUZZ
@given(name=st.text(alphabet=string.printable, max_size=20), days=NUMBERS, end=TIMES)
def test_generate(tmp_path_factory: pytest.TempPathFactory, name: str, days: str,
                  end: str) -> None:
    folder = tmp_path_factory.mktemp("gen")
    result = CliRunner().invoke(cli, ["generate", "fraud", str(folder / (name or "d")),
                                      "--customers", "3", "--terminals", "5", "--days", days,
                                      "--end", end[:10]])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2), (name, days, end, result.output)


TOML_VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str), st.booleans().map(lambda b: str(b).lower()),
    st.floats(allow_nan=True).map(lambda f: "nan" if f != f else repr(f)),
    TEXT.map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(['"mysql://me@db/x"', '"sqlite:///m.db"', '"sqlite://"', '"redis"',
                     '"embedded"', '"90d"', '"0d"', '"[online]"', "[1, 2]", "{a = 1}",
                     '"postgresql://u@127.0.0.1:1/x"', '""', '"sub/store"']))
TOML_KEYS = st.one_of(st.sampled_from(["name", "definitions", "root", "metadata_url", "store",
                                       "redis_url", "ttl", "nope"]),
                      st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True))
TOML_SECTIONS = st.one_of(st.sampled_from(["project", "storage", "online", "stroage"]),
                          st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True))


@st.composite
def tomls(draw: st.DrawFn) -> bytes:
    """Config files: well-formed TOML of known and unknown sections, or any bytes."""
    sections = draw(st.dictionaries(TOML_SECTIONS, st.dictionaries(TOML_KEYS, TOML_VALUES,
                                                                   max_size=3), max_size=3))
    text = "".join(f"[{name}]\n" + "".join(f"{k} = {v}\n" for k, v in values.items())
                   for name, values in sections.items())
    return draw(st.one_of(st.just(text.encode()), st.binary(max_size=60),
                          st.just(text.encode("utf-8") + b"\xff")))


@FUZZ
@given(config=tomls())
def test_any_config_file(tmp_path_factory: pytest.TempPathFactory, config: bytes) -> None:
    folder = tmp_path_factory.mktemp("cfg")
    (folder / "confluens.toml").write_bytes(config)
    (folder / "definitions.py").write_text("")
    for command in (["runs"], ["apply", "--dry-run"]):
        result = CliRunner().invoke(cli, [*command, "--project", str(folder)])
        shown = f"{config!r}\n{result.output}"
        assert "Traceback" not in result.output, shown
        assert result.exit_code in (0, 2), shown

"""The raw UCI Online Retail II file: real bad rows, counts that reconcile with pandas."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

RETAIL = '''
from confluens import Source, Field, NotNull, Range, Regex
retail_lines = Source(
    "retail_lines",
    [Field("invoice", "string", raw="Invoice"),
     Field("stock_code", "string", raw="StockCode"),
     Field("description", "string", raw="Description"),
     Field("quantity", "int64", raw="Quantity"),
     Field("invoice_date", "timestamp", raw="InvoiceDate"),
     Field("price", "float64", raw="Price"),
     Field("customer_id", "int64", raw="Customer ID"),
     Field("country", "string", raw="Country")],
    event_time="invoice_date",
    timezone="Europe/London",
    checks=[Regex("invoice", pattern=r"[0-9]{6}"),   # "C..." cancellations, "A..." adjustments
            Range("quantity", min=1),
            NotNull("customer_id"),
            Range("price", min=0)],
)
'''


@pytest.mark.shared_data
def test_raw_retail_counts_reconcile_with_an_independent_pandas_count(
        make_project, shared_data: Path) -> None:
    path = shared_data / "retail" / "online_retail_ii_2009-2010.parquet"
    project = make_project(RETAIL)
    project.apply()
    run = project.ingest("retail_lines", str(path))

    df = pd.read_parquet(path)
    failures = {
        "regex:invoice": ~df["Invoice"].str.fullmatch(r"[0-9]{6}"),
        "range:quantity": df["Quantity"] < 1,
        "not_null:customer_id": df["Customer ID"].isna(),
        "range:price": df["Price"] < 0,
    }
    bad = pd.concat(failures, axis=1).any(axis=1)
    duplicate = df.duplicated(keep="first")

    assert run.rows_in == len(df) == 525_461
    assert run.reconciles
    assert run.duplicates == int(duplicate.sum())
    assert run.quarantined == int((bad & ~duplicate).sum())
    assert run.accepted == int((~bad & ~duplicate).sum())
    assert run.rules == {rule: int((hit & ~duplicate).sum()) for rule, hit in failures.items()}
    # the published anomalies are all caught
    assert int(df["Invoice"].str.startswith("C").sum()) == 10_206
    assert int(failures["not_null:customer_id"].sum()) == 107_927

    stored = project.table("retail_lines", format="pandas")
    assert len(stored) == run.accepted
    assert project.quarantine("retail_lines").num_rows == run.quarantined
    expected = df[~bad & ~duplicate]
    assert sorted(stored["customer_id"].unique()) == sorted(
        expected["Customer ID"].astype("int64").unique())
    assert stored["quantity"].sum() == expected["Quantity"].sum()

    again = project.ingest("retail_lines", str(path))
    assert (again.accepted, again.quarantined, again.duplicates) == (0, 0, len(df))

"""The benchmarks' confluens definitions: the handbook's 12 window features.

This file is copied as-is into the benchmark project (``.bench/fraud``) as its
definitions module, and imported by the benchmarks for the views' feature names.
The source reads the shared fraud file's own columns (``raw=``), fraud flag included,
so the terminal windows need no separate labels source.

- customer: count and mean amount over 1, 7 and 30 days, in (t - n days, t];
- terminal, with a 7-day delay: count and fraud ratio (0 when empty) over 1, 7 and 30
  days, in (t - 7d - n days, t - 7d].
"""

from confluens import Count, Entity, FeatureView, Field, Mean, Ratio, Source, Sum

DAYS = (1, 7, 30)
DELAY = 7

transactions = Source(
    "transactions",
    schema=[Field("transaction_id", "int64", raw="TRANSACTION_ID"),
            Field("tx_datetime", "timestamp", raw="TX_DATETIME"),
            Field("customer_id", "string", raw="CUSTOMER_ID"),
            Field("terminal_id", "string", raw="TERMINAL_ID"),
            Field("tx_amount", "float64", raw="TX_AMOUNT"),
            Field("tx_fraud", "int64", raw="TX_FRAUD")],
    event_time="tx_datetime",
    id="transaction_id",
)

customer = FeatureView(
    "customer", Entity("customer", ["customer_id"]), transactions,
    [f for n in DAYS for f in (Count(window=f"{n}d", name=f"c{n}"),
                               Mean("tx_amount", window=f"{n}d", name=f"m{n}"))],
)

terminal = FeatureView(
    "terminal", Entity("terminal", ["terminal_id"]), transactions,
    [f for n in DAYS for f in (
        Count(window=f"{n}d", delay=f"{DELAY}d", name=f"t{n}"),
        Ratio(Sum("tx_fraud", window=f"{n}d", delay=f"{DELAY}d"),
              Count(window=f"{n}d", delay=f"{DELAY}d"), empty=0.0, name=f"r{n}"))],
)

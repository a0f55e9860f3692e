"""Card-fraud detection: definitions.

Data: `confluens generate fraud data` writes synthetic transactions and labels
(the Fraud Detection Handbook's simulator) under data/.
"""

from confluens import Count, Entity, FeatureView, Mean, NotNull, OneOf, Range, Regex, Source

customer = Entity("customer", keys=["customer_id"], description="a card holder")
terminal = Entity("terminal", keys=["terminal_id"], description="a payment terminal")

transactions = Source(
    "transactions",
    schema={
        "transaction_id": "int64",
        "tx_datetime": "timestamp",
        "customer_id": "string",
        "terminal_id": "string",
        "tx_amount": "float64",
    },
    event_time="tx_datetime",
    id="transaction_id",
    checks=[
        NotNull("customer_id"),
        NotNull("terminal_id"),
        Regex("customer_id", pattern=r"[0-9]+"),
        Range("tx_amount", min=0),
        Range("tx_amount", max=5_000, on_fail="warn", name="amount_plausible"),
    ],
    batch="data/transactions/*.parquet",
    description="card payments, one record per transaction",
)

fraud_labels = Source(
    "fraud_labels",
    schema={
        "transaction_id": "int64",
        "tx_datetime": "timestamp",
        "customer_id": "string",
        "terminal_id": "string",
        "tx_fraud": "int64",
        "reported_at": "timestamp",
    },
    event_time="tx_datetime",
    id="transaction_id",
    known_at="reported_at",
    checks=[OneOf("tx_fraud", [0, 1])],
    batch="data/labels/*.parquet",
    description="fraud (1) or genuine (0), known only once reported or confirmed",
)

# The Fraud Detection Handbook's customer features: for n in 1, 7, 30 days, the number
# of the customer's transactions in (t - n days, t] and their mean amount, plus two
# per-transaction flags. (Its terminal features read the late labels, whose known-at
# windows come in a later release.)
customer_spending = FeatureView(
    "customer_spending",
    customer,
    transactions,
    features=[f for n in (1, 7, 30)
              for f in (Count(window=f"{n}d"), Mean("tx_amount", window=f"{n}d"))],
    derive={
        "tx_during_weekend": "CAST(isodow(tx_datetime) >= 6 AS INTEGER)",
        "tx_during_night": "CAST(hour(tx_datetime) <= 6 AS INTEGER)",
    },
)

"""Card-fraud detection: definitions.

Data: `confluens generate fraud data` writes synthetic transactions and labels
(the Fraud Detection Handbook's simulator) under data/.
"""

from confluens import (
    AUC,
    AveragePrecision,
    CardPrecision,
    Count,
    Entity,
    Estimator,
    Events,
    FeatureView,
    Last,
    Mean,
    Model,
    NotNull,
    OneOf,
    Range,
    Ratio,
    Regex,
    Source,
    StreamBinding,
    Sum,
    TimeSplit,
)

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
    # live records: `confluens replay` or any producer appends to the embedded log,
    # `confluens stream` processes them (docs/streaming.md)
    stream=StreamBinding("log", "transactions"),
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
    stream=StreamBinding("log", "fraud_labels"),
    description="fraud (1) or genuine (0), known only once reported or confirmed",
)

# The Fraud Detection Handbook's 15 baseline features (Chapter 3), per transaction:
# its amount, whether it happened on a weekend or at night, and
# - per customer, for n in 1, 7, 30 days: the number of the customer's transactions in
#   (t - n days, t] (the current one included) and their mean amount;
# - per terminal, with a 7-day delay: the number of its transactions in
#   (t - 7d - n days, t - 7d] and the share of them that were frauds.
# The terminal features read the fraud labels, and only those already reported at t
# (their known_at): a label is never used before it exists.
DAYS = (1, 7, 30)

customer_spending = FeatureView(
    "customer_spending",
    customer,
    transactions,
    features=[
        Last("tx_amount", window=Events(1), name="amount"),
        Last("tx_during_weekend", window=Events(1), name="tx_during_weekend"),
        Last("tx_during_night", window=Events(1), name="tx_during_night"),
        *[f for n in DAYS
          for f in (Count(window=f"{n}d", name=f"customer_nb_tx_{n}d"),
                    Mean("tx_amount", window=f"{n}d", name=f"customer_avg_amount_{n}d"))],
    ],
    derive={
        "tx_during_weekend": "CAST(isodow(tx_datetime) >= 6 AS INTEGER)",
        "tx_during_night": "CAST(hour(tx_datetime) <= 6 AS INTEGER)",
    },
)

terminal_risk = FeatureView(
    "terminal_risk",
    terminal,
    fraud_labels,
    features=[
        f for n in DAYS for f in (
            Count(window=f"{n}d", delay="7d", name=f"terminal_nb_tx_{n}d"),
            Ratio(Sum("tx_fraud", window=f"{n}d", delay="7d"),
                  Count(window=f"{n}d", delay="7d"), empty=0.0,
                  name=f"terminal_risk_{n}d"),
        )
    ],
)

# A gradient-boosted model on those 15 features, judged with the handbook's protocol
# (Chapter 3): train on a week of labelled transactions, leave a week's delay (their
# labels arrive meanwhile; a label reported later is left out), test on the next week,
# without the cards already known compromised. The latest such weeks in the data are
# used. `confluens train fraud_model` builds the training set (each labelled
# transaction with its features as of its own time) and prints AUC, AP and CP@100.
# Estimator(...) names the class, so loading these definitions imports no ML library.
fraud_model = Model(
    "fraud_model",
    features=["customer_spending", "terminal_risk"],
    label="fraud_labels.tx_fraud",
    estimator=Estimator("lightgbm.LGBMClassifier", n_estimators=300, learning_rate=0.05,
                        num_leaves=15, min_child_samples=50, subsample=0.8, subsample_freq=1,
                        colsample_bytree=0.8, random_state=0, n_jobs=1, verbose=-1),
    protocol=TimeSplit(train="7d", delay="7d", test="7d"),
    metrics=[AveragePrecision(), CardPrecision(k=100, card="customer_id"), AUC()],
)

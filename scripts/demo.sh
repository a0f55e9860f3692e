#!/usr/bin/env bash
# `make demo`: the fraud reference project, from nothing to ingested data.
set -euo pipefail
DEMO=${CONFLUENS_DEMO_DIR:-work/fraud-demo}
DAYS=${CONFLUENS_DEMO_DAYS:-183}

rm -rf "$DEMO"
confluens init "$DEMO" --template fraud
cd "$DEMO"
confluens generate fraud data --days "$DAYS"
confluens apply
confluens ingest transactions
confluens ingest fraud_labels
echo
echo "== features: the handbook's 15, per transaction and online =="
confluens materialize
echo
echo "== a late batch with real-world mistakes (data/late_batch.csv) =="
confluens ingest transactions data/late_batch.csv
confluens quarantine list transactions
echo
echo "== the same batch again: nothing is added =="
confluens ingest transactions data/late_batch.csv
echo
confluens show transactions --where "tx_amount > 1000" --limit 5
echo
echo "== materialize again: only what the late batch can change is recomputed =="
confluens materialize
LAST=$(python - <<'PY'
import confluens
t = confluens.open(".").table("transactions", columns=["tx_datetime"]).column(0)
print(max(t.to_pylist()).isoformat())
PY
)
confluens features get customer_spending 1 2 3 --at "$LAST"
confluens features get terminal_risk 10 20 --at "$LAST"
echo
echo "== a point-in-time training set for the last week =="
python - <<'PY'
import datetime as dt
import confluens
p = confluens.open(".")
tx = p.table("transactions", format="pandas")
week = tx[tx.tx_datetime > tx.tx_datetime.max() - dt.timedelta(days=7)]
week[["transaction_id", "customer_id", "terminal_id", "tx_datetime"]].to_parquet("spine.parquet")
PY
confluens training-set --spine spine.parquet -f customer_spending -f terminal_risk \
  --at tx_datetime --out train.parquet
echo
echo "demo project: $DEMO  (try: cd $DEMO && confluens --help)"

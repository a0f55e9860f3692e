#!/usr/bin/env bash
# `make demo`: the fraud reference project, from nothing to a served, registered model.
set -euo pipefail
DEMO=${CONFLUENS_DEMO_DIR:-work/fraud-demo}
DAYS=${CONFLUENS_DEMO_DAYS:-183}
PORT=${CONFLUENS_DEMO_PORT:-8765}
REPO=$(pwd)

rm -rf "$DEMO"
confluens init "$DEMO" --template fraud
cd "$DEMO"
confluens generate fraud data --days "$DAYS"
# the last day's transactions (and their labels) are kept aside: they arrive live,
# through the streams
python "$REPO/scripts/demo_split_day.py" data/transactions/transactions.parquet data/live.parquet
python "$REPO/scripts/demo_split_day.py" data/labels/labels.parquet data/live_labels.parquet
confluens apply
confluens ingest transactions
confluens ingest fraud_labels
echo
echo "== features: the handbook's 15, per transaction and online =="
confluens materialize
echo
echo "== a point-in-time training set for the data's last week =="
confluens spine transactions --last 7d --out spine.parquet
confluens training-set --spine spine.parquet -f customer_spending -f terminal_risk \
  --out train.parquet
echo
echo "== train the fraud model (the handbook's protocol), logged and registered in MLflow =="
confluens train fraud_model
confluens models promote fraud_model 1 --reason "demo: the first trained model"
confluens models history fraud_model
echo
echo "== live: the last day's transactions replayed through the stream, scored by the champion =="
confluens replay transactions data/live.parquet --speed "${CONFLUENS_DEMO_SPEED:-5000x}" &
REPLAY=$!
confluens stream transactions --score fraud_model --alert-threshold 0.5 \
  --max-seconds "${CONFLUENS_DEMO_STREAM_SECONDS:-25}"
wait "$REPLAY"
confluens stream transactions --score fraud_model --alert-threshold 0.5 --until-idle
echo "== ... and the day's fraud labels, as they are reported =="
confluens replay fraud_labels data/live_labels.parquet
confluens stream fraud_labels --until-idle
confluens status
confluens features get customer_spending 1 2 3
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
echo "== materialize: only what the stream and the late batch changed is recomputed =="
confluens materialize
confluens features get customer_spending 1 2 3
confluens features get terminal_risk 10 20
echo
echo "== serve the champion over HTTP, with features from the online store =="
confluens serve --model fraud_model --port "$PORT" &
SERVER=$!
trap 'kill -INT "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
python "$REPO/scripts/demo_requests.py" "http://127.0.0.1:$PORT" . 500
kill -INT "$SERVER"; wait "$SERVER" || true
trap - EXIT
echo
echo "demo project: $DEMO  (try: source .venv/bin/activate && cd $DEMO && confluens --help)"
echo "  MLflow UI: cd $DEMO && mlflow ui --backend-store-uri sqlite:///.confluens/mlflow.db"
echo "  API docs:  cd $DEMO && confluens serve --model fraud_model, then http://127.0.0.1:8000/docs"

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
echo "== a late batch with real-world mistakes (samples/late_batch.csv) =="
confluens ingest transactions samples/late_batch.csv
confluens quarantine list transactions
echo
echo "== the same batch again: nothing is added =="
confluens ingest transactions samples/late_batch.csv
echo
confluens show transactions --where "tx_amount > 1000" --limit 5
echo
echo "demo project: $DEMO  (try: cd $DEMO && confluens --help)"

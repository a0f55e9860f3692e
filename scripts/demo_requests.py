"""`make demo`'s client: score transactions against `confluens serve`, print what came back.

Usage: python scripts/demo_requests.py URL PROJECT_DIR [N]
Waits for the server to be ready, sends N predictions for entities of the project's
latest transactions (one at a time, as a payment terminal would), then prints the
latency percentiles seen by the client and the highest-scored transactions. Last, it
scores a new transaction as it happens (`/v1/models/NAME/events`), which counts in its
own windows as in training, beside an online read that cannot see it yet.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from typing import Any

import httpx

import confluens


def main() -> None:
    url, project_dir = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    with confluens.open(project_dir) as project:
        recent = project.table("transactions", columns=["transaction_id", "tx_datetime",
                                                        "customer_id", "terminal_id",
                                                        "tx_amount"])
    rows = recent.slice(max(0, recent.num_rows - n)).to_pylist()
    with httpx.Client(base_url=url, timeout=10) as client:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/v2/health/ready").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                sys.exit("the server did not become ready in 60 s")
            time.sleep(0.2)
        latencies, scored = [], []
        for row in rows:
            body = {"keys": {"customer_id": row["customer_id"],
                             "terminal_id": row["terminal_id"]},
                    "fields": {"transaction_id": row["transaction_id"]}}
            started = time.perf_counter()
            answer = client.post("/v1/models/fraud_model/predict", json=body)
            latencies.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
            scored.append((answer.json()["score"], row))
        event = _new_transaction(recent.to_pylist())
        as_event = client.post("/v1/models/fraud_model/events?include_features=true",
                               json={"event": event})
        online = client.post("/v1/models/fraud_model/predict?include_features=true", json={
            "keys": {"customer_id": event["customer_id"], "terminal_id": event["terminal_id"]},
            "fields": {"amount": event["tx_amount"]}, "at": event["tx_datetime"]})
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"{len(rows)} predictions over HTTP: p50 {statistics.median(latencies):.2f} ms, "
          f"p99 {p99:.2f} ms (client-side, one at a time)")
    print("highest scores:")
    for score, row in sorted(scored, key=lambda s: -s[0])[:5]:
        print(f"  {score:.3f}  transaction {row['transaction_id']}  customer "
              f"{row['customer_id']}  terminal {row['terminal_id']}  amount {row['tx_amount']:.2f}")
    if as_event.status_code == 200 and online.status_code == 200:
        mine, read = as_event.json(), online.json()
        count = "customer_nb_tx_1d"
        print(f"a new transaction of customer {event['customer_id']} as it happens "
              f"(POST /v1/models/fraud_model/events): score {mine['score']:.3f}, "
              f"{mine['features'][count]} transaction(s) in its last day, itself included "
              f"as in training; an online read at its time (predict) sees "
              f"{read['features'][count]} and scores {read['score']:.3f}")
    else:
        print(f"event scoring failed: {as_event.text[:300]} {online.text[:300]}")


def _new_transaction(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A transaction one minute after the latest, by the same card at the same terminal."""
    last = max(rows, key=lambda r: r["tx_datetime"])
    return {"transaction_id": max(r["transaction_id"] for r in rows) + 1,
            "tx_datetime": (last["tx_datetime"] + timedelta(minutes=1)).isoformat(),
            "customer_id": last["customer_id"], "terminal_id": last["terminal_id"],
            "tx_amount": round(float(last["tx_amount"]) * 3, 2)}


if __name__ == "__main__":
    main()

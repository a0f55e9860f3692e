"""`make demo`'s client: score transactions against `confluens serve`, print what came back.

Usage: python scripts/demo_requests.py URL PROJECT_DIR [N]
Waits for the server to be ready, sends N predictions for entities of the project's
latest transactions (one at a time, as a payment terminal would), then prints the
latency percentiles seen by the client and the highest-scored transactions.
"""

from __future__ import annotations

import statistics
import sys
import time

import httpx

import confluens


def main() -> None:
    url, project_dir = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
    with confluens.open(project_dir) as project:
        recent = project.table("transactions", columns=["transaction_id", "customer_id",
                                                        "terminal_id", "tx_amount"])
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
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"{len(rows)} predictions over HTTP: p50 {statistics.median(latencies):.2f} ms, "
          f"p99 {p99:.2f} ms (client-side, one at a time)")
    print("highest scores:")
    for score, row in sorted(scored, key=lambda s: -s[0])[:5]:
        print(f"  {score:.3f}  transaction {row['transaction_id']}  customer "
              f"{row['customer_id']}  terminal {row['terminal_id']}  amount {row['tx_amount']:.2f}")


if __name__ == "__main__":
    main()

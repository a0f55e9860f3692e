"""A seeded synthetic card-transaction generator with three fraud scenarios.

It follows the simulator described in prose in Le Borgne et al., *Reproducible Machine Learning
for Credit Card Fraud Detection: Practical Handbook* (2022), chapter 3 "Transaction data
simulator", and is written from that description with whole-array numpy code:

- **Customers** sit at a uniform location on the square [0, 100]², spend amounts with
  ``mean_amount`` ~ U(5, 100) and ``std_amount = mean_amount / 2``, and make on average
  ``mean_nb_tx_per_day`` ~ U(0, 4) transactions a day. **Terminals** sit at a uniform location.
- A customer uses the terminals strictly closer than ``radius`` (default 5); a customer with
  none makes no transactions.
- Every customer and day: the number of transactions is Poisson(mean_nb_tx_per_day); each gets
  a time of day in seconds ~ Normal(43200, 20000) rounded (dropped unless in [0, 86400)), an
  amount ~ Normal(mean_amount, std_amount) (a negative draw is replaced by
  U(0, 2·mean_amount); rounded to cents) and a terminal drawn uniformly among the available ones.
- Fraud scenario 1: any amount above 220 is fraud. Scenario 2: each day 2 random terminals are
  compromised, and all their transactions that day and the following 27 are fraud. Scenario 3:
  each day 3 random customers are compromised; over that day and the following 13 each of their
  transactions is, with probability 1/3, fraud and its amount is multiplied by 5. A later
  scenario overwrites the code of an earlier one; ``tx_fraud`` is 1 when any applies.

Everything is drawn from ``numpy.random.Generator(PCG64(seed))``, so a given
:class:`FraudSimulation` always gives bit-for-bit the same table.

>>> sim = FraudSimulation(n_customers=50, n_terminals=500, n_days=10, seed=1)
>>> tx = generate_transactions(sim)
>>> tx.column_names == ['transaction_id', 'tx_datetime', 'customer_id', 'terminal_id',
...                     'tx_amount', 'tx_fraud', 'tx_fraud_scenario']
True
>>> tx.num_rows > 0 and tx.equals(generate_transactions(sim))
True
>>> generate_labels(tx).column_names[-1]
'reported_at'
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from confluens.datagen._fraud_profiles import FraudProfiles, draw_profiles
from confluens.datagen._fraud_scenarios import apply_scenarios
from confluens.errors import DefinitionError, SchemaMismatchError

__all__ = [
    "FraudProfiles",
    "FraudSimulation",
    "generate_labels",
    "generate_profiles",
    "generate_transactions",
    "write_fraud_dataset",
]

DAY_SECONDS = 86_400
_US = 1_000_000
_TIMESTAMP = pa.timestamp("us", tz="UTC")
GENUINE_CONFIRMATION_DAYS = 7
FRAUD_REPORT_DAYS = (1, 14)


@dataclass(frozen=True)
class FraudSimulation:
    """The parameters of one simulation; validated when built.

    >>> try:
    ...     FraudSimulation(radius=0)
    ... except DefinitionError as err:
    ...     print(err.thing, "|", err.rule, "|", err.got)
    FraudSimulation.radius | must be a finite number > 0 | 0
    """

    n_customers: int = 5000
    n_terminals: int = 10000
    n_days: int = 183
    start: str = "2018-04-01"
    radius: float = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("n_customers", "n_terminals", "n_days"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise DefinitionError(f"FraudSimulation.{name}", "must be a positive integer",
                                      got=value, fix="pass an int of at least 1")
        r = self.radius
        if not isinstance(r, int | float) or isinstance(r, bool) or not math.isfinite(r) or r <= 0:
            raise DefinitionError("FraudSimulation.radius", "must be a finite number > 0",
                                  got=r, fix="pass a positive distance, e.g. 5.0")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise DefinitionError("FraudSimulation.seed", "must be a non-negative integer",
                                  got=self.seed, fix="pass an int such as 0")
        try:
            self.start_date  # noqa: B018 - parse to validate
        except (TypeError, ValueError):
            raise DefinitionError("FraudSimulation.start", "must be an ISO date (YYYY-MM-DD)",
                                  got=self.start, fix="pass a date such as '2018-04-01'") from None

    @property
    def start_date(self) -> dt.date:
        """The first simulated day (a UTC calendar date)."""
        if not isinstance(self.start, str):
            raise TypeError(self.start)
        return dt.date.fromisoformat(self.start)


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seed))


def _ids(n: int) -> pa.Array:
    """The id strings "0" .. str(n - 1), to ``take`` from."""
    return pa.array(np.arange(n, dtype=np.int64)).cast(pa.string())


def _stable_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for keys >= 0; two 16-bit radix passes when they fit."""
    if len(keys) == 0 or keys.max() >= 1 << 32:
        return np.argsort(keys, kind="stable")
    order = np.argsort((keys & 0xFFFF).astype(np.uint16), kind="stable")
    return order[np.argsort((keys[order] >> 16).astype(np.uint16), kind="stable")]


def generate_profiles(sim: FraudSimulation) -> FraudProfiles:
    """The customer and terminal profiles that :func:`generate_transactions` uses for ``sim``.

    Customer ``i`` has id ``str(i)`` and terminal ``j`` id ``str(j)`` in the transactions.
    """
    return draw_profiles(_rng(sim.seed), sim.n_customers, sim.n_terminals, sim.radius)


def generate_transactions(sim: FraudSimulation) -> pa.Table:
    """Simulate the transactions of ``sim``, sorted by ``tx_datetime`` then ``transaction_id``.

    Columns: ``transaction_id`` (int64, 0..n-1 in time order), ``tx_datetime`` (timestamp[us,
    UTC]), ``customer_id`` and ``terminal_id`` (strings), ``tx_amount`` (float64), ``tx_fraud``
    (0/1) and ``tx_fraud_scenario`` (0 genuine, else the scenario 1..3; int64).
    """
    rng = _rng(sim.seed)
    prof = draw_profiles(rng, sim.n_customers, sim.n_terminals, sim.radius)
    n_days = sim.n_days

    # Transactions per active customer and day; np.repeat orders them by (customer, day).
    active = np.flatnonzero(prof.n_available > 0)
    counts = rng.poisson(prof.mean_nb_tx_per_day[active][:, None], size=(len(active), n_days))
    cell = np.repeat(np.arange(counts.size, dtype=np.int64), counts.ravel())
    seconds = np.rint(rng.normal(DAY_SECONDS / 2, 20_000, size=len(cell))).astype(np.int64)
    keep = (seconds >= 0) & (seconds < DAY_SECONDS)
    cell, seconds = cell[keep], seconds[keep]
    customer, day = active[cell // n_days], cell % n_days

    mean = prof.mean_amount[customer]
    amount = mean + prof.std_amount[customer] * rng.standard_normal(len(cell))
    negative = np.flatnonzero(amount < 0)
    amount[negative] = rng.uniform(0.0, 2.0 * mean[negative])
    amount = np.round(amount, 2)
    pick = rng.integers(0, prof.n_available[customer])
    terminal = prof.avail_terminals[prof.avail_offsets[customer] + pick]

    amount, scenario = apply_scenarios(
        rng, customer=customer, terminal=terminal, day=day, amount=amount,
        n_customers=sim.n_customers, n_terminals=sim.n_terminals, n_days=n_days,
    )

    since_start = day * DAY_SECONDS + seconds
    order = _stable_order(since_start)
    start = dt.datetime.combine(sim.start_date, dt.time(), tzinfo=dt.UTC)
    micros = (int(start.timestamp()) + since_start[order]) * _US
    return pa.table({
        "transaction_id": pa.array(np.arange(len(order), dtype=np.int64)),
        "tx_datetime": pa.array(micros, type=_TIMESTAMP),
        "customer_id": _ids(sim.n_customers).take(customer[order]),
        "terminal_id": _ids(sim.n_terminals).take(terminal[order]),
        "tx_amount": pa.array(amount[order], type=pa.float64()),
        "tx_fraud": pa.array((scenario[order] > 0).astype(np.int64)),
        "tx_fraud_scenario": pa.array(scenario[order]),
    })


def generate_labels(transactions: pa.Table, seed: int = 0) -> pa.Table:
    """The fraud labels of ``transactions`` as a separate, late-arriving source.

    Columns: ``transaction_id``, ``tx_datetime``, ``customer_id``, ``terminal_id``, ``tx_fraud``
    and ``reported_at`` (timestamp[us, UTC]), one row per transaction, in the same order.
    A fraud is reported after a uniform random delay of 1 to 14 days (whole seconds, both ends
    included, drawn from ``PCG64(seed)``); a genuine transaction is confirmed exactly 7 days after
    it happened, the handbook's feedback-delay assumption.
    """
    needed = ["transaction_id", "tx_datetime", "customer_id", "terminal_id", "tx_fraud"]
    missing = [c for c in needed if c not in transactions.column_names]
    if missing:
        raise SchemaMismatchError("generate_labels", "the transactions lack required columns",
                                  got=missing, fix="pass the table from generate_transactions")
    labels = transactions.select(needed)
    happened = labels.column("tx_datetime").cast(_TIMESTAMP).to_numpy().view(np.int64)
    fraud = np.asarray(labels.column("tx_fraud").to_numpy()) != 0
    delay = np.full(len(happened), GENUINE_CONFIRMATION_DAYS * DAY_SECONDS, dtype=np.int64)
    low, high = (d * DAY_SECONDS for d in FRAUD_REPORT_DAYS)
    delay[fraud] = _rng(seed).integers(low, high, size=int(fraud.sum()), endpoint=True)
    return labels.append_column(
        "reported_at", pa.array(happened + delay * _US, type=_TIMESTAMP))


def _write_parquet(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_fraud_dataset(out_dir: str | os.PathLike[str], sim: FraudSimulation) -> dict[str, int]:
    """Write ``transactions/transactions.parquet`` and ``labels/labels.parquet`` under ``out_dir``.

    The transactions carry no fraud columns; those arrive through the labels
    (:func:`generate_labels`, seeded with ``sim.seed``). Returns the row count of each file.
    """
    out = Path(out_dir)
    transactions = generate_transactions(sim)
    labels = generate_labels(transactions, seed=sim.seed)
    _write_parquet(transactions.drop_columns(["tx_fraud", "tx_fraud_scenario"]),
                   out / "transactions" / "transactions.parquet")
    _write_parquet(labels, out / "labels" / "labels.parquet")
    return {"transactions": transactions.num_rows, "labels": labels.num_rows}

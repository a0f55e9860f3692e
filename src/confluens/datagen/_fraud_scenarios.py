"""The three fraud scenarios of the fraud simulator, applied to whole arrays at once.

Private helper of :mod:`confluens.datagen.fraud`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "AMOUNT_THRESHOLD",
    "CUSTOMER_WINDOW_DAYS",
    "TERMINAL_WINDOW_DAYS",
    "apply_scenarios",
]

AMOUNT_THRESHOLD = 220.0  # scenario 1: any amount above this is fraud
TERMINALS_PER_DAY = 2  # scenario 2: terminals compromised each day ...
TERMINAL_WINDOW_DAYS = 28  # ... for that day and the following 27
CUSTOMERS_PER_DAY = 3  # scenario 3: customers compromised each day ...
CUSTOMER_WINDOW_DAYS = 14  # ... for that day and the following 13
CUSTOMER_FRAUD_SHARE = 1.0 / 3.0  # ... on each of their transactions with this probability
CUSTOMER_AMOUNT_FACTOR = 5.0  # ... whose amount is multiplied by this


def _concat_ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``concatenate([arange(a, b) for a, b in zip(lo, hi)])``, without the loop."""
    lengths = hi - lo
    ends = np.cumsum(lengths)
    return np.repeat(lo - (ends - lengths), lengths) + np.arange(ends[-1] if len(ends) else 0)


def apply_scenarios(
    rng: np.random.Generator,
    *,
    customer: np.ndarray,
    terminal: np.ndarray,
    day: np.ndarray,
    amount: np.ndarray,
    n_customers: int,
    n_terminals: int,
    n_days: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(amount, scenario)`` after the three scenarios; ``scenario`` is 0..3.

    The transactions must be ordered by ``(customer, day)``, which makes each compromised
    customer's window one contiguous slice. Later scenarios overwrite the code of earlier ones.
    """
    n = len(amount)
    scenario = np.where(amount > AMOUNT_THRESHOLD, 1, 0).astype(np.int64)

    # The daily draws: a short loop over days, everything else is array work.
    k2, k3 = min(TERMINALS_PER_DAY, n_terminals), min(CUSTOMERS_PER_DAY, n_customers)
    compromised_terminal = np.zeros((n_terminals, n_days), dtype=bool)
    compromised_customers = np.empty((n_days, k3), dtype=np.int64)
    for d in range(n_days):
        terminals = rng.choice(n_terminals, size=k2, replace=False)
        compromised_terminal[terminals, d:d + TERMINAL_WINDOW_DAYS] = True
        compromised_customers[d] = rng.choice(n_customers, size=k3, replace=False)

    scenario[compromised_terminal[terminal, day]] = 2

    # Scenario 3: each (customer, first day) pair covers one slice of the sorted transactions.
    key = customer.astype(np.int64) * n_days + day
    starts = np.repeat(np.arange(n_days, dtype=np.int64), k3)
    cust = compromised_customers.ravel()
    lo = np.searchsorted(key, cust * n_days + starts)
    hi = np.searchsorted(key, cust * n_days + np.minimum(starts + CUSTOMER_WINDOW_DAYS, n_days))
    candidates = _concat_ranges(lo, hi)
    hits = candidates[rng.random(len(candidates)) < CUSTOMER_FRAUD_SHARE]
    times = np.bincount(hits, minlength=n)  # a slice may be drawn by overlapping windows
    hit = times > 0
    amount = amount.copy()
    amount[hit] = np.round(amount[hit] * CUSTOMER_AMOUNT_FACTOR ** times[hit], 2)
    scenario[hit] = 3
    return amount, scenario

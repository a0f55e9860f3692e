"""Customer and terminal profiles of the fraud simulator, and which terminals each customer uses.

Private helper of :mod:`confluens.datagen.fraud`; everything here is vectorised with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["AREA", "FraudProfiles", "available_terminals", "draw_profiles"]

AREA = 100.0  # customers and terminals live on the square [0, AREA] x [0, AREA]
_CHUNK = 500  # customers compared against all terminals at a time


@dataclass(frozen=True, eq=False)
class FraudProfiles:
    """The simulated population: one row per customer and per terminal.

    ``avail_offsets`` and ``avail_terminals`` are a CSR layout of the customer → terminal
    availability: customer ``i`` uses the terminals
    ``avail_terminals[avail_offsets[i]:avail_offsets[i + 1]]`` (sorted ascending), those strictly
    closer than the radius to its location.
    """

    customer_xy: np.ndarray  # (n_customers, 2) float64
    mean_amount: np.ndarray  # (n_customers,) float64
    std_amount: np.ndarray  # (n_customers,) float64
    mean_nb_tx_per_day: np.ndarray  # (n_customers,) float64
    terminal_xy: np.ndarray  # (n_terminals, 2) float64
    avail_offsets: np.ndarray  # (n_customers + 1,) int64
    avail_terminals: np.ndarray  # (n_available_pairs,) int64

    @property
    def n_available(self) -> np.ndarray:
        """How many terminals each customer can use."""
        return np.diff(self.avail_offsets)


def available_terminals(
    customer_xy: np.ndarray, terminal_xy: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(offsets, terminals)`` of the terminals within ``radius`` of each customer.

    >>> off, term = available_terminals(np.array([[0.0, 0.0], [10.0, 10.0]]),
    ...                                 np.array([[1.0, 1.0], [50.0, 50.0], [9.0, 9.5]]), 5.0)
    >>> off.tolist(), term.tolist()
    ([0, 1, 2], [0, 2])
    """
    r2 = float(radius) ** 2
    # Chunks of customers taken in x order only need the terminals in their x band (+- radius).
    t_order = np.argsort(terminal_xy[:, 0], kind="stable")
    tx, ty = terminal_xy[t_order, 0], terminal_xy[t_order, 1]
    c_order = np.argsort(customer_xy[:, 0], kind="stable")
    customers: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    terminals: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    for lo in range(0, len(c_order), _CHUNK):
        chunk = c_order[lo:lo + _CHUNK]
        cx, cy = customer_xy[chunk, 0:1], customer_xy[chunk, 1:2]
        a = int(np.searchsorted(tx, cx.min() - radius, side="left"))
        b = int(np.searchsorted(tx, cx.max() + radius, side="right"))
        dx, dy = cx - tx[a:b], cy - ty[a:b]
        rows, cols = np.nonzero(dx * dx + dy * dy < r2)
        customers.append(chunk[rows])
        terminals.append(t_order[a + cols])
    cust = np.concatenate(customers).astype(np.int64)
    term = np.concatenate(terminals).astype(np.int64)
    order = np.lexsort((term, cust))
    offsets = np.zeros(len(customer_xy) + 1, dtype=np.int64)
    np.cumsum(np.bincount(cust, minlength=len(customer_xy)), out=offsets[1:])
    return offsets, term[order]


def draw_profiles(
    rng: np.random.Generator, n_customers: int, n_terminals: int, radius: float
) -> FraudProfiles:
    """Draw the customer and terminal profiles, in a fixed order, from ``rng``."""
    customer_xy = rng.uniform(0.0, AREA, size=(n_customers, 2))
    mean_amount = rng.uniform(5.0, 100.0, size=n_customers)
    mean_nb_tx_per_day = rng.uniform(0.0, 4.0, size=n_customers)
    terminal_xy = rng.uniform(0.0, AREA, size=(n_terminals, 2))
    offsets, terminals = available_terminals(customer_xy, terminal_xy, radius)
    return FraudProfiles(
        customer_xy=customer_xy,
        mean_amount=mean_amount,
        std_amount=mean_amount / 2.0,
        mean_nb_tx_per_day=mean_nb_tx_per_day,
        terminal_xy=terminal_xy,
        avail_offsets=offsets,
        avail_terminals=terminals,
    )

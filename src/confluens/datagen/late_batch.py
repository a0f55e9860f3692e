"""A small late batch of card transactions with the mistakes real feeds make.

Eleven lines, timed on one day (``day``, normally the last simulated one, so that
they fall inside the generated data): a missing customer, a negative amount, a time
that is not a time, an amount that is not a number, an amount far out of range, the
same record twice, the same id with other content, a customer id of the wrong shape,
a line with an extra field and a time written with an offset.

>>> text = late_batch_csv(dt.date(2024, 1, 31))
>>> text.splitlines()[1]
'90000001,2024-01-31 09:15:00,17,4242,25.40'
>>> len(text.splitlines())
12
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

__all__ = ["LATE_BATCH_FILE", "late_batch_csv", "write_late_batch"]

LATE_BATCH_FILE = "late_batch.csv"

_LINES = """\
transaction_id,tx_datetime,customer_id,terminal_id,tx_amount
90000001,{day} 09:15:00,17,4242,25.40
90000002,{day} 09:16:30,,4242,12.00
90000003,{day} 09:17:10,18,4243,-5.00
90000004,not a time,19,4244,30.00
90000005,{day} 09:20:00,20,4245,abc
90000006,{day} 09:21:00,21,4246,99999.99
90000001,{day} 09:15:00,17,4242,25.40
90000001,{day} 09:15:00,17,4242,26.40
90000007,{day} 09:22:00,C22,4247,10.00
90000008,{day} 09:23:00,23,4248,11.00,extra
90000009,{day}T11:24:00+02:00,24,4249,12.50
"""


def late_batch_csv(day: dt.date) -> str:
    """The batch's CSV text, its records timed on ``day``."""
    return _LINES.format(day=day.isoformat())


def write_late_batch(path: str | os.PathLike[str], day: dt.date) -> Path:
    """Write the batch to ``path`` (folders created); return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(late_batch_csv(day))
    return target

"""pandas DataFrames as Arrow tables, time zones kept, without pandas' deprecated paths.

``pa.Table.from_pandas`` reads a time-zone-aware column through ``Series.values``, which
pandas 3.1 deprecates (it drops the zone). Those columns are converted here from their
UTC integers instead, so no warning reaches the user and the zone is kept.

>>> import pandas as pd
>>> frame = pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 12:00", None], utc=True),
...                       "n": [1, 2]})
>>> table = arrow_from_pandas(frame)
>>> table.schema.field("ts").type, table.column("ts").null_count
(TimestampType(timestamp[..., tz=UTC]), 1)
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa

__all__ = ["arrow_from_pandas"]


def arrow_from_pandas(frame: pd.DataFrame) -> pa.Table:
    """``frame`` as an Arrow table (its index dropped), zones of time columns kept."""
    zoned = [name for name, dtype in frame.dtypes.items() if isinstance(dtype, pd.DatetimeTZDtype)]
    if not zoned:
        return pa.Table.from_pandas(frame, preserve_index=False)
    rest = pa.Table.from_pandas(frame.drop(columns=zoned), preserve_index=False)
    columns: dict[str, Any] = {}
    for name in frame.columns:
        if name in zoned:
            columns[name] = _zoned_column(frame[name])
        else:
            columns[name] = rest.column(name)
    return pa.table(columns)


def _zoned_column(series: pd.Series) -> pa.Array:
    dtype = series.dtype
    assert isinstance(dtype, pd.DatetimeTZDtype)
    utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
    integers = utc.to_numpy(dtype="datetime64[" + dtype.unit + "]").view("int64")
    return pa.array(integers, type=pa.timestamp(dtype.unit, tz=str(dtype.tz)),
                    mask=series.isna().to_numpy())

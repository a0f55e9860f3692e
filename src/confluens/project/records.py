"""Reading a source's stored records back (``show``, ``Project.table``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from confluens.project.reading import count_rows, read_table
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores

__all__ = ["RecordsService"]


class RecordsService:
    """The stored records of a project's sources, as Arrow (or pandas)."""

    def __init__(self, registration: Registration, stores: ProjectStores) -> None:
        self.registration = registration
        self.stores = stores

    def table(self, source: str, *, columns: Sequence[str] | None = None,
              where: str | None = None, limit: int | None = None,
              format: Literal["arrow", "pandas"] = "arrow",
              system_columns: bool = False) -> Any:
        """The stored records of ``source`` as an Arrow table (or pandas with format=)."""
        src = self.registration.definitions.source(source)
        table = read_table(src, self.stores.offline.files(source), columns=columns,
                           where=where, limit=limit, system_columns=system_columns)
        return table.to_pandas() if format == "pandas" else table

    def count(self, source: str, *, where: str | None = None) -> int:
        """How many records of ``source`` are stored (that match ``where``)."""
        src = self.registration.definitions.source(source)
        return count_rows(src, self.stores.offline.files(source), where=where)

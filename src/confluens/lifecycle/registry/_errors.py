"""MLflow's exceptions, said in confluens' terms (errors.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from confluens.errors import StorageError
from confluens.lifecycle.registry._mlflow import import_mlflow

__all__ = ["NOT_FOUND", "mlflow_errors"]

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


@contextmanager
def mlflow_errors(where: str) -> Iterator[None]:
    """An MLflow failure (server down, database locked, refused request) becomes a
    StorageError naming the registry; callers translate "not found" themselves."""
    mlflow = import_mlflow()
    try:
        yield
    except mlflow.exceptions.MlflowException as exc:
        if exc.error_code == NOT_FOUND:
            raise
        message = " ".join(str(exc.message).split())[:400]
        raise StorageError(f"model registry {where}", "MLflow could not carry out the "
                           "request", got=message, fix="check the tracking server or "
                           "database is running and reachable ([models] tracking_uri in "
                           "confluens.toml)") from None

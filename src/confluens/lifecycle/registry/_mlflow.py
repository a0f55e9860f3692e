"""MLflow, imported on first use, and pointed at one registry at a time.

MLflow is a heavy import (about a second), so nothing outside this subpackage
imports it, and this subpackage only inside the functions that need it. Its
fluent API (runs, ``log_model``) reads a process-wide tracking URI; ``using``
sets it for one block, under a lock, and puts the previous one back.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING

from confluens.errors import MissingExtraError

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from confluens.lifecycle.registry.settings import RegistrySettings

__all__ = ["client", "import_mlflow", "import_pyfunc", "using"]

_LOCK = threading.RLock()
# MLflow and its database migrations (alembic) log progress at INFO ("Creating initial
# MLflow database tables", "Validating input example"); a command's output is ours
# to write, so only their warnings and errors show.
_QUIET = ("mlflow", "alembic")


def import_mlflow() -> ModuleType:
    """``mlflow``, or a MissingExtraError naming the ``models`` extra."""
    try:
        import mlflow
    except ModuleNotFoundError as exc:
        raise MissingExtraError("the model registry", "models", exc.name or "mlflow") from None
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return mlflow


def import_pyfunc() -> ModuleType:
    """``mlflow.pyfunc``, imported without the warning MLflow raises about its own
    chat types (\"Any type hint is inferred as AnyType\") when the module loads: it
    concerns none of our models, and would be printed on every `confluens train`."""
    import_mlflow()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Any type hint is inferred as AnyType",
                                category=UserWarning)
        import mlflow.pyfunc
    return mlflow.pyfunc


def client(settings: RegistrySettings) -> MlflowClient:
    """A client of ``settings``' tracking store and registry (no global state)."""
    mlflow = import_mlflow()
    result: MlflowClient = mlflow.MlflowClient(tracking_uri=settings.tracking_uri,
                                               registry_uri=settings.registry_uri)
    return result


@contextmanager
def using(settings: RegistrySettings) -> Iterator[ModuleType]:
    """``mlflow`` with its fluent API (runs, ``log_model``) pointed at ``settings``'
    tracking store for this block; the previous setting, set or not, comes back after.

    MLflow's own ``_use_tracking_uri`` does exactly this; setting the URI back by
    value instead would turn "not set" into MLflow's default (``./mlflow.db``).
    The registry is only reached through clients (``client``), never this way.
    """
    mlflow = import_mlflow()
    from mlflow.tracking._tracking_service.utils import _use_tracking_uri

    with _LOCK, _use_tracking_uri(settings.tracking_uri):
        yield mlflow

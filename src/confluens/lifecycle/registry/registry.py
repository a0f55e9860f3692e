"""``ModelRegistry``: record, list, promote, roll back and load models.

MLflow keeps the runs, the model files and the registered versions with their
aliases; the project's metadata store keeps the audited history of every alias
move. ``project/model_registry.py`` builds one from ``confluens.toml``.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from confluens.errors import InputError, ProjectError, UnknownNameError
from confluens.lifecycle.registry import loading, tracking
from confluens.lifecycle.registry._errors import NOT_FOUND, mlflow_errors
from confluens.lifecycle.registry._mlflow import client, import_mlflow
from confluens.lifecycle.registry.aliases import check_alias, check_reason, rollback_target
from confluens.lifecycle.registry.settings import RegistrySettings
from confluens.lifecycle.registry.versions import ModelVersion, from_mlflow
from confluens.stores.metadata.model_aliases import AliasChange, AliasHistory

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from confluens.lifecycle.registry.loading import RegisteredModel
    from confluens.lifecycle.trained import TrainedModel

__all__ = ["ModelRegistry", "ModelSummary", "parse_ref"]


@dataclass(frozen=True)
class ModelSummary:
    """A registered model: its latest version and where its aliases point."""

    name: str
    latest: int | None
    aliases: dict[str, int]
    updated_at: datetime


def parse_ref(ref: object) -> int | str:
    """A version number (``3``, ``"3"``) or an alias (``"champion"``, ``"@champion"``).

    >>> parse_ref("3"), parse_ref("@champion"), parse_ref(2)
    (3, 'champion', 2)
    """
    if isinstance(ref, int) and not isinstance(ref, bool) and ref >= 1:
        return ref
    if isinstance(ref, str) and ref.strip().isdigit() and int(ref) >= 1:
        return int(ref)
    if isinstance(ref, str) and ref.lstrip("@").strip() and not ref.strip().isdigit():
        return ref.strip().lstrip("@")
    raise InputError("model version", "must be a version number (1 or more) or an alias "
                     "such as @champion", got=ref, fix="e.g. 3, or champion")


class ModelRegistry:
    """The registry of one project (or of any MLflow tracking store)."""

    def __init__(self, settings: RegistrySettings, history: AliasHistory) -> None:
        self.settings = settings
        self.alias_history = history
        self._client: MlflowClient | None = None

    def __repr__(self) -> str:
        return f"ModelRegistry({self.settings.registry_uri!r})"

    @property
    def client(self) -> MlflowClient:
        if self._client is None:
            self._client = client(self.settings)
        return self._client

    # -- recording ---------------------------------------------------------------------

    def record(self, trained: TrainedModel) -> ModelVersion:
        """Log ``trained`` to a new MLflow run and register it as a new version."""
        tracking.check_trained(trained)
        with mlflow_errors(self.settings.tracking_uri):
            version, _ = tracking.log_and_register(self.settings, trained)
        return self.version(trained.model, version)

    # -- reading -----------------------------------------------------------------------

    def models(self) -> list[ModelSummary]:
        """Every registered model, by name."""
        found: list[ModelSummary] = []
        token = None
        with mlflow_errors(self.settings.registry_uri):
            while True:
                page = self.client.search_registered_models(max_results=100,
                                                            page_token=token)
                for model in page:
                    latest = max((int(v.version) for v in model.latest_versions or ()),
                                 default=None)
                    found.append(ModelSummary(
                        model.name, latest, {a: int(v) for a, v in model.aliases.items()},
                        datetime.fromtimestamp(model.last_updated_timestamp / 1000, tz=UTC)))
                token = page.token
                if not token:
                    break
        return sorted(found, key=lambda m: m.name)

    def versions(self, name: str, *, metrics: bool = False) -> list[ModelVersion]:
        """Every version of ``name``, oldest first (with its run's metrics if asked)."""
        aliases = self._aliases(name)  # a search does not return them
        with mlflow_errors(self.settings.registry_uri):
            found = self.client.search_model_versions(f"name = '{name}'")
            versions = [from_mlflow(v, self._metrics(v.run_id) if metrics else None)
                        for v in found]
        return sorted((replace(v, aliases=tuple(sorted(
            a for a, n in aliases.items() if n == v.version))) for v in versions),
            key=lambda v: v.version)

    def version(self, name: str, ref: int | str) -> ModelVersion:
        """One version, by number or alias."""
        target = parse_ref(ref)
        if isinstance(target, str):
            number = self._aliases(name).get(target)
            if number is None:
                raise self._unknown_version(name, target)
            target = number
        else:
            self._registered(name)
        mlflow = import_mlflow()
        with mlflow_errors(self.settings.registry_uri):
            try:
                found = self.client.get_model_version(name, str(target))
            except mlflow.exceptions.MlflowException as exc:
                if exc.error_code != NOT_FOUND:
                    raise
                raise self._unknown_version(name, target) from None
            return from_mlflow(found, self._metrics(found.run_id))

    def load(self, name: str, alias_or_version: int | str) -> RegisteredModel:
        """The version ``alias_or_version`` of ``name``, fetched and ready to score."""
        version = self.version(name, alias_or_version)
        with mlflow_errors(self.settings.registry_uri):
            return loading.fetch(self.settings, version)

    # -- aliases -----------------------------------------------------------------------

    def promote(self, name: str, version: int | str, alias: str = "champion", *,
                reason: str, by: str | None = None) -> AliasChange | None:
        """Point ``name@alias`` at ``version`` and record why; None if it already is."""
        alias, reason = check_alias(alias), check_reason(reason)
        ref = parse_ref(version)
        if isinstance(ref, str):
            raise InputError("promote VERSION", "must be a version number", got=version,
                             fix=f"give a number `confluens models show {name}` lists")
        target = self.version(name, ref).version
        with self.alias_history.moving(name, alias) as move:
            current = self._current(name, alias)
            if current == target:
                return None
            self._set_alias(name, alias, target)
            return move.write(AliasChange(name, alias, "promote", current, target,
                                          datetime.now(UTC), by or _actor(), reason))

    def rollback(self, name: str, alias: str = "champion", *, reason: str,
                 by: str | None = None) -> AliasChange:
        """Point ``name@alias`` back at the version it had before its last promotion."""
        alias, reason = check_alias(alias), check_reason(reason)
        self._registered(name)
        with self.alias_history.moving(name, alias) as move:
            target = rollback_target(move.changes())
            if target is None:
                raise ProjectError(f"model {name}@{alias}", "has no earlier version in its "
                                   "history to roll back to", got=self._current(name, alias),
                                   fix=f"see `confluens models history {name}`; promote "
                                   "a version instead")
            current = self._current(name, alias)
            self.version(name, target)  # still registered
            self._set_alias(name, alias, target)
            return move.write(AliasChange(name, alias, "rollback", current, target,
                                          datetime.now(UTC), by or _actor(), reason))

    def history(self, name: str, alias: str | None = None) -> list[AliasChange]:
        """Every recorded alias move of ``name`` (or of one alias), oldest first."""
        return self.alias_history.changes(name, None if alias is None else check_alias(alias))

    # -- helpers -----------------------------------------------------------------------

    def _current(self, name: str, alias: str) -> int | None:
        return self._aliases(name).get(alias)

    def _aliases(self, name: str) -> dict[str, int]:
        """Where ``name``'s aliases point now (an UnknownNameError if it is not registered)."""
        found = self._registered(name)
        return {alias: int(version) for alias, version in (found.aliases or {}).items()}

    def _set_alias(self, name: str, alias: str, version: int) -> None:
        with mlflow_errors(self.settings.registry_uri):
            self.client.set_registered_model_alias(name, alias, str(version))

    def _metrics(self, run_id: str | None) -> dict[str, float]:
        if not run_id:
            return {}
        mlflow = import_mlflow()
        try:
            return dict(self.client.get_run(run_id).data.metrics)
        except mlflow.exceptions.MlflowException:  # the run was deleted
            return {}

    def _registered(self, name: str) -> Any:
        if not isinstance(name, str) or not name.strip() or "'" in name:
            raise InputError("model name", "must be a non-empty name without quotes",
                             got=name, fix="use the name `confluens models list` shows")
        mlflow = import_mlflow()
        with mlflow_errors(self.settings.registry_uri):
            try:
                return self.client.get_registered_model(name)
            except mlflow.exceptions.MlflowException as exc:
                if exc.error_code != NOT_FOUND:
                    raise
                known = [m.name for m in self.models()]
                raise UnknownNameError(f"model {name!r}", "is not in the registry", got=name,
                                       fix=("registered models: " + ", ".join(known)) if known
                                       else "train one first (`confluens train MODEL`)"
                                       ) from None

    def _unknown_version(self, name: str, ref: int | str) -> UnknownNameError:
        if isinstance(ref, str):
            return UnknownNameError(f"model {name}@{ref}", "the alias is not set", got=ref,
                                    fix=f"promote a version: `confluens models promote "
                                    f"{name} VERSION --alias {ref} --reason ...`")
        numbers = [str(v.version) for v in self.versions(name)]
        return UnknownNameError(f"model {name!r}", "has no such version", got=ref,
                                fix="use one of its versions: " + ", ".join(numbers))


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (a container)
        return "unknown"

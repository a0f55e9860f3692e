"""confluens.toml: where a project keeps its data and metadata.

Every setting has an embedded default, so an empty file is a valid project:

>>> cfg = ProjectConfig.parse({}, root=Path("/p"))
>>> cfg.store_root, cfg.metadata_url
(PosixPath('/p/.confluens'), 'sqlite:////p/.confluens/metadata.db')

Every relative path in the file (``definitions``, ``root``, a SQLite ``metadata_url``)
is relative to the project folder, wherever a command is run from:

>>> ProjectConfig.parse({"storage": {"metadata_url": "sqlite:///meta/m.db"}},
...                     root=Path("/p")).metadata_url
'sqlite:////p/meta/m.db'
>>> ProjectConfig.parse({"project": {"name": 42}}, root=Path("/p"))
Traceback (most recent call last):
...
confluens.errors.ConfigError: confluens.toml [project] name: must be a string; got 42. Fix: ...
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluens.errors import ConfigError
from confluens.urls import sqlite_url_under, url_dialect

__all__ = ["CONFIG_FILE", "ProjectConfig"]

CONFIG_FILE = "confluens.toml"
METADATA_ENV = "CONFLUENS_METADATA_URL"

_KNOWN = {
    "project": {"name", "definitions"},
    "storage": {"root", "metadata_url"},
    "online": {"store", "redis_url", "ttl"},
    "models": {"tracking_uri", "registry_uri", "experiment"},
    "streams": {"redis_url", "nats_url", "mqtt_url"},
    "serve": {"reload_seconds"},
}
_ONLINE_STORES = ("embedded", "redis")
_METADATA_DIALECTS = ("sqlite", "postgresql")
_URL_EXAMPLE = "sqlite:///.confluens/metadata.db or postgresql://user@host/db"


@dataclass(frozen=True, slots=True)
class ProjectConfig:
    root: Path
    name: str
    definitions: Path
    store_root: Path
    metadata_url: str
    online_store: str = "embedded"
    redis_url: str = "redis://127.0.0.1:6379/0"
    online_ttl_seconds: float | None = None
    tracking_uri: str = ""  # MLflow tracking; default sqlite:///<store root>/mlflow.db
    registry_uri: str = ""  # MLflow model registry; default: the tracking URI
    experiment: str = ""  # MLflow experiment of the project's runs; default: its name
    streams_redis_url: str = "redis://127.0.0.1:6379/0"  # Redis Streams; default: [online]'s
    nats_url: str = "nats://127.0.0.1:4222"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    serve_reload_seconds: float = 5.0  # how often `confluens serve` checks its aliases; 0: never

    def path(self, path: str | Path) -> Path:
        """A path as every command reads it: a relative one starts at the project root
        (as in confluens.toml), wherever the command runs from."""
        given = Path(path).expanduser()
        return given if given.is_absolute() else self.root / given

    @classmethod
    def load(cls, root: Path) -> ProjectConfig:
        path = root / CONFIG_FILE
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(str(path), "cannot be read", got=exc.strerror,
                              fix="check the file exists and you may read it") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(str(path), "must be UTF-8 text (TOML files are UTF-8)",
                              got=f"byte {data[exc.start]:#04x} at offset {exc.start}",
                              fix="save the file as UTF-8") from None
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), "is not valid TOML", got=str(exc),
                              fix="correct the syntax at the position shown") from None
        return cls.parse(raw, root=root)

    @classmethod
    def parse(cls, raw: dict[str, Any], *, root: Path) -> ProjectConfig:
        _check_layout(raw)
        project = raw.get("project", {})
        storage = raw.get("storage", {})
        online = raw.get("online", {})
        store_root = root / _text(storage, "storage", "root", ".confluens")
        env_url = os.environ.get(METADATA_ENV)
        url = env_url or _text(storage, "storage", "metadata_url",
                               f"sqlite:///{store_root / 'metadata.db'}")
        _check_metadata_url(url, METADATA_ENV if env_url else
                            f"{CONFIG_FILE} [storage] metadata_url")
        store = _text(online, "online", "store", "embedded")
        if store not in _ONLINE_STORES:
            raise ConfigError(f"{CONFIG_FILE} [online] store", "must be one of "
                              + ", ".join(_ONLINE_STORES), got=store,
                              fix="use 'embedded' (no server) or 'redis'")
        ttl: float | None = None
        if "ttl" in online:
            from confluens.core import Duration

            ttl = Duration.parse(online["ttl"], where=f"{CONFIG_FILE} [online] ttl").seconds
        name = _text(project, "project", "name", root.name)
        tracking, registry = _models_uris(raw.get("models", {}), store_root, root)
        streams = raw.get("streams", {})
        reload_seconds = raw.get("serve", {}).get("reload_seconds", 5.0)
        if isinstance(reload_seconds, bool) or not isinstance(reload_seconds, int | float) \
                or not 0 <= reload_seconds <= 86400:
            raise ConfigError(f"{CONFIG_FILE} [serve] reload_seconds", "is a number of "
                              "seconds from 0 (never reload) to 86400", got=reload_seconds,
                              fix="write e.g. reload_seconds = 5")
        redis_url = _text(online, "online", "redis_url", "redis://127.0.0.1:6379/0")
        return cls(root=root, name=name,
                   definitions=root / _text(project, "project", "definitions",
                                            "definitions.py"),
                   store_root=store_root, metadata_url=sqlite_url_under(url, root),
                   online_store=store,
                   redis_url=redis_url,
                   online_ttl_seconds=ttl, tracking_uri=tracking, registry_uri=registry,
                   experiment=_text(raw.get("models", {}), "models", "experiment", name),
                   streams_redis_url=_text(streams, "streams", "redis_url", redis_url),
                   nats_url=_text(streams, "streams", "nats_url", "nats://127.0.0.1:4222"),
                   mqtt_url=_text(streams, "streams", "mqtt_url", "mqtt://127.0.0.1:1883"),
                   serve_reload_seconds=float(reload_seconds))


def _check_layout(raw: dict[str, Any]) -> None:
    """Only the known sections, each a table, holding only known settings."""
    for section, values in raw.items():
        if section not in _KNOWN:
            raise ConfigError(CONFIG_FILE, "sections must be one of "
                              + ", ".join(f"[{s}]" for s in _KNOWN), got=section,
                              fix="remove or rename that section")
        if not isinstance(values, dict):
            raise ConfigError(f"{CONFIG_FILE} {section}", "must be a section, written "
                              f"[{section}] on its own line", got=values,
                              fix=f"put its settings under a [{section}] line")
        unknown = set(values) - _KNOWN[section]
        if unknown:
            raise ConfigError(f"{CONFIG_FILE} [{section}]", "settings must be one of "
                              + ", ".join(sorted(_KNOWN[section])), got=sorted(unknown)[0],
                              fix="remove or rename that setting")


def _text(values: dict[str, Any], section: str, key: str, default: str) -> str:
    """A setting that must be a non-empty string (quoted in TOML)."""
    value = values.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{CONFIG_FILE} [{section}] {key}", "must be a string"
                          if not isinstance(value, str) else "must not be empty", got=value,
                          fix=f'write it in quotes, e.g. {key} = "{default}"')
    return value


def _check_metadata_url(url: str, where: str) -> None:
    if "://" not in url:
        raise ConfigError(where, "must be a database URL", got=url, fix=f"use {_URL_EXAMPLE}")
    dialect = url_dialect(url)
    if dialect not in _METADATA_DIALECTS:
        raise ConfigError(where, "the metadata store runs on SQLite or PostgreSQL; "
                          f"{dialect or 'this database'} is not supported", got=url,
                          fix=f"use {_URL_EXAMPLE} (PostgreSQL needs "
                          "pip install 'confluens[postgres]')")


_MODEL_URI_SCHEMES = ("sqlite", "postgresql", "mysql", "http", "https")


def _models_uris(models: dict[str, Any], store_root: Path, root: Path) -> tuple[str, str]:
    """[models] tracking_uri and registry_uri: MLflow's tracking store and registry.

    >>> _models_uris({}, Path("/p/.confluens"), Path("/p"))[0]
    'sqlite:////p/.confluens/mlflow.db'
    >>> _models_uris({"tracking_uri": "http://127.0.0.1:5000"}, Path("/s"), Path("/p"))
    ('http://127.0.0.1:5000', 'http://127.0.0.1:5000')
    """
    tracking = _text(models, "models", "tracking_uri", f"sqlite:///{store_root / 'mlflow.db'}")
    registry = _text(models, "models", "registry_uri", tracking)
    for key, uri in (("tracking_uri", tracking), ("registry_uri", registry)):
        if "://" not in uri or url_dialect(uri) not in _MODEL_URI_SCHEMES:
            raise ConfigError(f"{CONFIG_FILE} [models] {key}", "must be an MLflow tracking "
                              "server (http:// or https://) or a database URL (sqlite, "
                              "postgresql, mysql)", got=uri,
                              fix='use e.g. "http://127.0.0.1:5000" or '
                              '"sqlite:///.confluens/mlflow.db"')
    return sqlite_url_under(tracking, root), sqlite_url_under(registry, root)

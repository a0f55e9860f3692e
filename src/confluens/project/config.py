"""confluens.toml: where a project keeps its data and metadata.

Every setting has an embedded default, so an empty file is a valid project:

>>> cfg = ProjectConfig.parse({}, root=Path("/p"))
>>> cfg.store_root, cfg.metadata_url
(PosixPath('/p/.confluens'), 'sqlite:////p/.confluens/metadata.db')
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluens.core import Duration
from confluens.errors import ConfigError

__all__ = ["CONFIG_FILE", "ProjectConfig"]

CONFIG_FILE = "confluens.toml"
METADATA_ENV = "CONFLUENS_METADATA_URL"

_KNOWN = {
    "project": {"name", "definitions"},
    "storage": {"root", "metadata_url"},
    "online": {"store", "redis_url", "ttl"},
}
_ONLINE_STORES = ("embedded", "redis")


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

    @classmethod
    def load(cls, root: Path) -> ProjectConfig:
        path = root / CONFIG_FILE
        try:
            raw = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), "is not valid TOML", got=str(exc),
                              fix="correct the syntax at the position shown") from None
        return cls.parse(raw, root=root)

    @classmethod
    def parse(cls, raw: dict[str, Any], *, root: Path) -> ProjectConfig:
        for section, values in raw.items():
            if section not in _KNOWN or not isinstance(values, dict):
                raise ConfigError(CONFIG_FILE, "sections must be one of "
                                  + ", ".join(f"[{s}]" for s in _KNOWN), got=section,
                                  fix="remove or rename that section")
            unknown = set(values) - _KNOWN[section]
            if unknown:
                raise ConfigError(f"{CONFIG_FILE} [{section}]", "settings must be one of "
                                  + ", ".join(sorted(_KNOWN[section])), got=sorted(unknown)[0],
                                  fix="remove or rename that setting")
        project = raw.get("project", {})
        storage = raw.get("storage", {})
        store_root = root / str(storage.get("root", ".confluens"))
        url = (os.environ.get(METADATA_ENV) or storage.get("metadata_url")
               or f"sqlite:///{store_root / 'metadata.db'}")
        if not isinstance(url, str) or "://" not in url:
            raise ConfigError(f"{CONFIG_FILE} [storage] metadata_url", "must be a database URL",
                              got=url, fix="use sqlite:///path/metadata.db or "
                              "postgresql+psycopg://user@host/db")
        online = raw.get("online", {})
        store = online.get("store", "embedded")
        if store not in _ONLINE_STORES:
            raise ConfigError(f"{CONFIG_FILE} [online] store", "must be one of "
                              + ", ".join(_ONLINE_STORES), got=store,
                              fix="use 'embedded' (no server) or 'redis'")
        ttl = online.get("ttl")
        if ttl is not None:
            ttl = Duration.parse(ttl, where=f"{CONFIG_FILE} [online] ttl").seconds
        return cls(root=root, name=str(project.get("name", root.name)),
                   definitions=root / str(project.get("definitions", "definitions.py")),
                   store_root=store_root, metadata_url=url, online_store=store,
                   redis_url=str(online.get("redis_url", "redis://127.0.0.1:6379/0")),
                   online_ttl_seconds=ttl)

"""Project is a facade over small services sharing one set of stores; with in-memory
metadata and online stores (stores/memory.py) the same commands run unchanged."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

import confluens
from confluens.errors import InputError, NotAppliedError
from confluens.project import Project
from confluens.project.online_state import entity_key
from confluens.project.registration import Registration
from confluens.project.store_factory import ProjectStores
from confluens.stores.memory import MemoryMetadataStore, MemoryOnlineStore

DEFINITIONS = '''
from confluens import Count, Entity, FeatureView, Source, Sum

tx = Source("tx", {"id": "int64", "card": "string", "amount": "float64",
                   "ts": "timestamp"}, "ts", id="id")
card = Entity("card", ["card"])
spend = FeatureView("spend", card, tx, [Count(window="1d"), Sum("amount", window="1d")])
'''

CSV = ("id,card,amount,ts\n"
       "1,A,10,2024-01-01T00:00:00Z\n"
       "2,A,5,2024-01-01T12:00:00Z\n"
       "3,B,7,2024-01-01T13:00:00Z\n")


def _folder(tmp_path: Path, definitions: str = DEFINITIONS) -> Path:
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    (root / "confluens.toml").write_text("")
    (root / "definitions.py").write_text(textwrap.dedent(definitions))
    (root / "tx.csv").write_text(CSV)
    return root


def test_the_services_share_the_project_stores(tmp_path: Path) -> None:
    with Project(_folder(tmp_path)) as project:
        assert not {"metadata", "offline", "online"} & set(project.stores.__dict__), \
            "opening a project connects to nothing"
        services = [project.registration, project.ingestion, project.records,
                    project.features, project.training_sets, project.materialization,
                    project.online_reads]
        assert all(service.stores is project.stores for service in services)
        assert all(service.registration is project.registration for service in services[1:])
        assert project.definitions is project.registration.definitions
        assert project.metadata is project.stores.metadata
        assert project.offline is project.stores.offline
        assert project.online is project.stores.online
        assert project.feature_tables is project.stores.feature_tables
        assert project.quarantine_files is project.stores.quarantine
        assert project.path("tx.csv") == project.root / "tx.csv"


def test_a_project_runs_on_in_memory_metadata_and_online_stores(tmp_path: Path) -> None:
    metadata, online = MemoryMetadataStore(), MemoryOnlineStore()
    with Project(_folder(tmp_path), metadata=metadata, online=online) as project:
        assert project.apply().added == ["entity:card", "feature_view:spend", "source:tx"]
        assert project.plan().empty
        run = project.ingest("tx", "tx.csv")
        assert (run.status, run.accepted) == ("succeeded", 3)
        assert [r.run_id for r in metadata.runs("tx")] == [run.run_id]
        (done,) = project.materialize()
        assert (done.mode, done.entities) == ("full", 2)
        stored = online.read("spend", [entity_key(["A"]), entity_key(["B"])])
        assert None not in stored, "the state went to the given store"
        at = datetime(2024, 1, 1, 18, tzinfo=UTC)
        rows = project.online_features("spend", ["A", "B", "C"], at=at)
        assert [dict(r) for r in rows] == [
            {"count_1d": 2, "amount_sum_1d": 15.0}, {"count_1d": 1, "amount_sum_1d": 7.0},
            {"count_1d": 0, "amount_sum_1d": 0.0}]
        assert rows.missing == ["C"]
        assert project.records.count("tx") == 3


def test_a_source_changed_since_apply_is_refused(tmp_path: Path) -> None:
    config = confluens.project.ProjectConfig.load(_folder(tmp_path))
    stores = ProjectStores(config, metadata=MemoryMetadataStore())
    Registration(config.definitions, stores).apply()
    config.definitions.write_text(textwrap.dedent(DEFINITIONS).replace(
        '"amount": "float64"', '"amount": "int64"'))
    changed = Registration(config.definitions, stores)
    with pytest.raises(NotAppliedError, match="source 'tx': differs from the version "
                       "registered by the last apply"):
        changed.applied_version(changed.definitions.source("tx"))
    assert [c.key for c in changed.apply().changed] == ["source:tx"]
    assert changed.applied_version(changed.definitions.source("tx")) == 2


@pytest.mark.parametrize("call", ["online_features", "online_vector"])
def test_a_read_time_without_a_zone_is_refused(tmp_path: Path, call: str) -> None:
    with Project(_folder(tmp_path), metadata=MemoryMetadataStore(),
                 online=MemoryOnlineStore()) as project:
        naive = datetime(2024, 1, 1)
        read = ((lambda: project.online_features("spend", ["A"], at=naive))
                if call == "online_features"
                else (lambda: project.online_vector({"spend": "A"}, at=naive)))
        with pytest.raises(InputError, match=r"^at: must carry a time zone; got "
                           r"'2024-01-01T00:00:00'\. Fix: pass e\.g\. datetime\.now"):
            read()

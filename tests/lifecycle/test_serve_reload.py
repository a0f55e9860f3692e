"""Hot reload as logic over a real project and real models: when the watched version
changes, the service swaps the model in; a load that fails keeps the old one serving
and is reported; requests queued before the swap finish on the old model."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from confluens.errors import StorageError
from confluens.lifecycle.serve import EstimatorModel, Scored, ScoreRequest
from confluens.lifecycle.trained import LoadedModel
from confluens.project.serving import model_service
from tests.lifecycle.serving_project import END, fit_lightgbm, write_project

pytest.importorskip("lightgbm")

REQUEST = ScoreRequest({"customer_id": "3", "merchant_id": 4}, {"amount": 42.0}, at=END)


def test_a_moved_alias_is_served_and_a_failed_load_keeps_the_old_model(tmp_path: Path):
    project = write_project(tmp_path / "shop")
    three = fit_lightgbm(project, version=3)
    four = EstimatorModel("fraud", three.estimator, features=three.features,
                          columns=three.columns, version=4)
    alias = {"fraud": 3}

    def load(name: str) -> LoadedModel:
        version = alias[name]
        if version == 5:
            raise StorageError("model fraud version 5", "its files are gone", got=None,
                               fix="register it again")
        return {3: three, 4: four}[version]

    service = model_service(project, ["fraud"], load, log=False, watch=alias.get,
                            reload_seconds=3600)  # reloads are asked for below

    async def score() -> Scored:
        return await service.get("fraud").batcher.submit(REQUEST)

    async def main() -> None:
        await service.start()
        assert (await score()).version == 3
        assert await service.reload() == []  # nothing moved

        alias["fraud"] = 4
        old = service.get("fraud")
        queued = asyncio.ensure_future(old.batcher.submit(REQUEST))
        await asyncio.sleep(0)  # queued on the old model's batcher before the swap
        assert await service.reload() == ["fraud"]
        assert (await queued).version == 3  # finished on the old model
        assert (await score()).version == 4
        with pytest.raises(RuntimeError, match="not running"):
            await old.batcher.submit(REQUEST)  # the old batcher is stopped

        alias["fraud"] = 5  # a version that does not load: 4 keeps serving
        assert await service.reload() == []
        assert "version 5" in service.reload_failed["fraud"]
        assert "files are gone" in service.reload_failed["fraud"]
        assert (await score()).version == 4
        assert await service.reload() == []  # not tried again until the alias moves
        alias["fraud"] = 4  # moved back to the version served: nothing failed any more
        assert await service.reload() == []
        assert service.reload_failed == {}
        alias["fraud"] = 5  # and on again: tried again
        assert await service.reload() == []
        assert "version 5" in service.reload_failed["fraud"]

        alias["fraud"] = 3  # a rollback
        assert await service.reload() == ["fraud"]
        assert service.reload_failed == {}
        assert (await score()).version == 3
        await service.stop()

    try:
        asyncio.run(main())
    finally:
        project.close()


def test_the_watch_runs_every_reload_seconds(tmp_path: Path):
    project = write_project(tmp_path / "shop")
    three = fit_lightgbm(project, version=3)
    four = EstimatorModel("fraud", three.estimator, features=three.features,
                          columns=three.columns, version=4)
    alias = {"fraud": 3}
    service = model_service(project, ["fraud"], lambda name: {3: three, 4: four}[alias[name]],
                            log=False, watch=alias.get, reload_seconds=0.05)

    async def main() -> int:
        await service.start()
        alias["fraud"] = 4
        for _ in range(200):
            if service.get("fraud").model.version == 4:
                break
            await asyncio.sleep(0.05)
        version = (await service.get("fraud").batcher.submit(REQUEST)).version
        await service.stop()
        return version

    try:
        assert asyncio.run(main()) == 4
    finally:
        project.close()

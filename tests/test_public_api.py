"""The public surface: `__all__` lists exactly what the package exports, and nothing drifts."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import confluens

PUBLIC_PACKAGES = ["confluens", "confluens.core", "confluens.errors", "confluens.connectors",
                   "confluens.ingest", "confluens.project", "confluens.datagen",
                   "confluens.stores.offline", "confluens.stores.metadata"]


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_all_names_exist_and_are_unique(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(exported) == len(set(exported))
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ names missing {item}"


@pytest.mark.parametrize("name", ["confluens", "confluens.core"])
def test_public_classes_and_functions_are_all_exported(name: str) -> None:
    module = importlib.import_module(name)
    public = {k for k, v in vars(module).items() if not k.startswith("_")
              and getattr(v, "__module__", "").startswith("confluens")}
    public |= {k for k, v in vars(module).items() if k == "errors"}
    assert public <= set(module.__all__), public - set(module.__all__)


def test_top_level_surface_is_as_documented() -> None:
    assert set(confluens.__all__) == {
        "Check", "Count", "Custom", "DType", "Definitions", "DefinitionsDiff", "DistinctCount",
        "Entity", "Events", "FeatureView", "Field", "Last", "Max", "Mean", "Min", "NotNull",
        "Latest", "Snapshot",
        "OneOf", "Project", "Range", "Ratio", "Regex", "Schema", "Source", "Std",
        "StreamBinding", "Sum", "Unique", "__version__", "errors", "init", "open",
        "AUC", "NDCG", "PHM08", "RMSE", "AveragePrecision", "CardPrecision", "HitRate",
        "Estimator", "Model", "Prequential", "TimeSplit"}


def test_every_module_has_all() -> None:
    for info in pkgutil.walk_packages(confluens.__path__, "confluens."):
        if ".templates" in info.name or info.name.split(".")[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        assert hasattr(module, "__all__"), info.name

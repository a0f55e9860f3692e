"""Loading a project's definitions module: user code, run inside the boundary.

Definitions are checked when they are built (the core's frozen values) and, once the
module has run, their expressions are parsed and typed against the schemas
(``plan/expressions``): a wrong ``derive`` or ``where`` is a DefinitionError here,
at ``confluens apply``, before any engine sees it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path

from confluens.core import Definitions
from confluens.core.boundary import user_code
from confluens.errors import ProjectError
from confluens.plan.expressions import check_view

__all__ = ["load_definitions"]


def load_definitions(path: Path) -> Definitions:
    """Import ``path`` and return its ``Definitions`` (or every definition at module level)."""
    if not path.exists():
        raise ProjectError("definitions module", "does not exist", got=str(path),
                           fix="create it, or set [project] definitions in confluens.toml")
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]
    name = f"confluens_user_definitions_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with user_code(f"definitions module {path}"):
            spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    explicit = [v for v in vars(module).values() if isinstance(v, Definitions)]
    if len(explicit) > 1:
        raise ProjectError(f"definitions module {path}", "holds more than one Definitions",
                           got=len(explicit), fix="keep one Definitions(...) value")
    found = explicit[0] if explicit else Definitions.collect(vars(module).values())
    for view in found.feature_views:
        check_view(view)
    return found

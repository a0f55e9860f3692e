"""`confluens serve`: the HTTP API over the project's online store and models.

FastAPI and uvicorn (the ``serve`` extra) are imported only when the command runs.
Models come from the registry (their champion, reloaded when the alias moves), or from
``--models MODULE:FUNCTION``:
a function of the project, in the project folder's Python path, returning a loader
``(name) -> LoadedModel`` (see confluens.lifecycle.serve.EstimatorModel).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from confluens.errors import InputError
from confluens.interfaces.cli.context import (
    err,
    escape,
    open_project,
    project_option,
    reports_errors,
)

if TYPE_CHECKING:
    from confluens.lifecycle.serve import ModelProvider, VersionWatch
    from confluens.lifecycle.trained import LoadedModel
    from confluens.project import Project

__all__ = ["serve"]


def registry_models(project: Project, alias: str = "champion") -> ModelProvider:
    """Each name's ``alias`` version from the project's registry (MLflow, loaded now)."""
    registry = project.registry

    def load(name: str) -> LoadedModel:
        return registry.load(name, alias)

    return load


def registry_watch(project: Project, alias: str) -> VersionWatch | None:
    """Where each name's ``alias`` points now, from the alias history in the metadata
    store (a cheap query, no MLflow call); None for a version number."""
    if alias.isdigit():
        return None
    registry = project.registry

    def watch(name: str) -> int | None:
        changes = registry.history(name, alias)
        return changes[-1].to_version if changes else None

    return watch


def user_models(project: Project, target: str) -> ModelProvider:
    """``MODULE:FUNCTION`` imported from the project folder, called with the project."""
    from confluens.core.boundary import user_code

    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise InputError("--models", "names a function as MODULE:FUNCTION", got=target,
                         fix="write e.g. --models serving:models")
    root = str(project.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    with user_code(f"--models {target}"):
        module = importlib.import_module(module_name)
        factory: Callable[[Any], ModelProvider] | None = getattr(module, attribute, None)
        if not callable(factory):
            raise InputError("--models", f"module '{module_name}' has no function "
                             f"'{attribute}'", got=target, fix="name a function of the "
                             "project that returns a (name) -> LoadedModel loader")
        return factory(project)


@click.command("serve")
@project_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--model", "-m", "names", multiple=True, metavar="NAME",
              help="A model to serve (repeat for several).")
@click.option("--push", is_flag=True, help="Also take records pushed into the sources "
              "bound to http streams: POST /v1/sources/SOURCE/records.")
@click.option("--alias", default="champion", show_default=True,
              help="Serve each model's version under this registry alias (or a version "
              "number).")
@click.option("--models", "provider", metavar="MODULE:FUNCTION",
              help="Load models with this function of the project instead of the registry.")
@click.option("--no-log", is_flag=True, help="Do not log predictions.")
@click.option("--reload-seconds", type=click.FloatRange(0, 86400), default=None,
              help="Check this often whether `confluens models promote` or `rollback` "
              "moved the alias served, and serve the new version [default: [serve] "
              "reload_seconds, else 5; 0: never].")
@click.option("--max-batch", default=64, show_default=True, type=click.IntRange(1, 4096),
              help="Most requests scored together.")
@click.option("--max-wait-ms", default=1.0, show_default=True,
              type=click.FloatRange(0, 100), help="Longest a batch waits for more requests.")
@reports_errors
def serve(project_dir: str, host: str, port: int, names: tuple[str, ...], push: bool,
          alias: str, provider: str | None, no_log: bool, reload_seconds: float | None,
          max_batch: int, max_wait_ms: float) -> None:
    """Serve predictions over HTTP (/v1 and the Open Inference Protocol v2) with
    features from the online store; every prediction is logged.

    Needs the serve extra: pip install 'confluens[serve]'.
    """
    from confluens.interfaces.api import create_app, run
    from confluens.project.event_scoring import EventScoring
    from confluens.project.serving import model_service
    from confluens.project.stream.publish import Publisher

    if not names and not push:
        raise InputError("serve", "needs something to serve", got="no --model, no --push",
                         fix="pass --model NAME (repeat for several), --push, or both")
    project = open_project(project_dir)
    service = None
    events = None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    if names:
        models = (user_models(project, provider) if provider
                  else registry_models(project, alias))
        every = (project.config.serve_reload_seconds if reload_seconds is None
                 else reload_seconds)
        watch = None if provider else registry_watch(project, alias)
        service = model_service(project, names, models, log=not no_log,
                                max_batch=max_batch, max_wait=max_wait_ms / 1000,
                                watch=watch, reload_seconds=every)
        service.load()
        for name, why in service.failed.items():
            err.print(f"[bold red]not served:[/] {escape(name)}: {escape(why)}",
                      soft_wrap=True)
        if not service.served:
            raise InputError("--model", "no model could be loaded", got=list(names),
                             fix="see the reasons above")
        served = ", ".join(f"{n} (version {s.model.version})"
                           for n, s in service.served.items())
        err.print(f"serving {escape(served)} on http://{shown}:{port} · predict: "
                  "POST /v1/models/NAME/predict · an event as it happens: POST "
                  "/v1/models/NAME/events · Open Inference Protocol: /v2", soft_wrap=True)
        events = EventScoring(project.definitions, project.online, service)
    publisher = None
    if push:
        publisher = Publisher(project.config, project.definitions)
        if not publisher.sources:
            raise InputError("--push", "needs a source bound to an http stream", got=[],
                             fix="declare stream=StreamBinding('http', '<topic>') on a "
                             "source and run `confluens apply`")
        err.print(f"taking records for {escape(', '.join(publisher.sources))}: "
                  f"POST http://{shown}:{port}/v1/sources/SOURCE/records", soft_wrap=True)
    err.print(f"API docs: http://{shown}:{port}/docs · Ctrl-C to stop", soft_wrap=True)
    try:
        run(create_app(service, publisher=publisher, events=events), host, port)
    except KeyboardInterrupt:  # uvicorn stopped cleanly first, then passes Ctrl-C on
        pass
    finally:
        project.close()
    logged = service.log.written if service is not None and service.log is not None else 0
    err.print(f"stopped; {logged} prediction(s) logged under "
              f"{escape(str(project.config.store_root / 'predictions'))}", soft_wrap=True)

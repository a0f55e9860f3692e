"""The HTTP API (the ``serve`` extra: FastAPI and uvicorn). The only package that
knows about HTTP; it serves a ``confluens.lifecycle.serve.ModelService``."""

from confluens.interfaces.api.app import create_app
from confluens.interfaces.api.server import BackgroundServer, free_port, run

__all__ = ["BackgroundServer", "create_app", "free_port", "run"]

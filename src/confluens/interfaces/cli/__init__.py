"""The command line: `confluens --help`. Errors reach the user as one clear message."""

from confluens.interfaces.cli.main import cli, main

__all__ = ["cli", "main"]

"""confluens.lifecycle."""
__all__: list[str] = []

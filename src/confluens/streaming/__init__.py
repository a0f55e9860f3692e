"""confluens.streaming."""
__all__: list[str] = []

"""confluens.plan."""
__all__: list[str] = []

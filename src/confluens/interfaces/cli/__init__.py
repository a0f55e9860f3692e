"""confluens.interfaces.cli."""

"""confluens.interfaces."""

"""confluens.streaming."""

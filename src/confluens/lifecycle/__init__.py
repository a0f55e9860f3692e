"""confluens.lifecycle."""

"""confluens.plan."""

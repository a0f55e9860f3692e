"""Benchmarks: `python -m benchmarks` (or `make bench`) prints figures, not pass/fail."""

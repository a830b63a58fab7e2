"""Benchmarks and failure drills that start the stack they measure (`python -m bench --help`)."""

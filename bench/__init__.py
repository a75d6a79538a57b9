"""Benchmarks for provsdk: ``python bench/run.py`` (see bench/README.md)."""

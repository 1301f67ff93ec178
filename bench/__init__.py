"""Benchmarks and their data generators (not deployed)."""

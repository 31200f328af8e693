"""Benchmarks (run with `make bench`); they report figures and assert nothing about timing."""

"""Benchmarks: plain functions returning figures, run by `make bench`, never asserted on in tests."""

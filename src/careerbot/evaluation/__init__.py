"""Evaluation: question sets and their answer/retrieval metrics (questions), and BEIR benchmarks (beir)."""

"""Retrieval: a query to ranked hits (dense, BM25 or hybrid) over any store's index (search)."""

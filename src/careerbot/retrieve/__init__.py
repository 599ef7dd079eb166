"""Retrieval: BM25 tokenizing and scoring (lexical) and a query to ranked hits, dense, BM25 or hybrid, over any
store's index (search)."""

"""The index: chunks embedded (embed), the in-memory Index (with BM25 from retrieve.lexical) and its versioned
folder (versions), and embedding at scale on Ray (ray_embed)."""

"""The index: chunks embedded (embed), BM25 over them (lexical), the in-memory Index and its versioned
folder (versions), and embedding at scale on Ray (ray_embed)."""

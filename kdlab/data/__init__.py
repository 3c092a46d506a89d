"""Data sources for kdlab: one module per source (mnist, speech, many_class). Nothing downloads at import."""

"""Training and evaluation data: one module per data source, plus the cache and the mix."""

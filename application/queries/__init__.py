"""Query functions: read-model rows in, plain data out. They never load aggregates."""

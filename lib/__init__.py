"""E-commerce operations metrics: one module per domain, each metric a pure function."""

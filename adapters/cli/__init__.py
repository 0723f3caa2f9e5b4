"""The `qa` commands that run once: ingest, ask, eval."""

"""What every terminal-facing front end shares: safe text, answer rendering, ingest reports, exit codes."""

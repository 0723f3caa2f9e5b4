"""Exit statuses of the `qa` commands."""

EXIT_ERROR = 1  # nothing done: a bad question, no index, no file that could be read
EXIT_USAGE = 2
EXIT_SKIPPED = 3  # `qa ingest` indexed what it could read but skipped something
EXIT_INTERRUPTED = 130

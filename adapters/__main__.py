"""`python -m adapters`: the `qa` command."""

from adapters.main import entry

entry()

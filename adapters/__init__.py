"""Front ends over the `qa` core: the command line, the terminal chat and the Slack bot."""

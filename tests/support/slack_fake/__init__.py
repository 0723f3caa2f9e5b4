"""Slack as the tests see it: its Web API (`webapi`), Socket Mode (`socket_mode`) and what it sends the bot,
signed (`signer`)."""

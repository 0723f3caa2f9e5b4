"""`qa mcp`: the articles served to AI assistants over the Model Context Protocol (stdio)."""

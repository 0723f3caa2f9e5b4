"""The answer policy: which sentences answer, in which order passages are cited, or why not to answer."""

"""`qa repl`: the terminal chat."""

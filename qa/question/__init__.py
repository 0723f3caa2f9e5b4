"""Understanding a question before anything is searched: what it asks for and what constrains the answer."""

"""Test helpers that the package itself uses too: a local OpenAI-protocol server (`openai_server`)."""

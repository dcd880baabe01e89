"""Background jobs of the knowledge base: parse, chunk, classify and index content."""

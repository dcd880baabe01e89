"""Language-aware text handling shared by the knowledge base, retrieval and classification."""

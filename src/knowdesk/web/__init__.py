"""The HTTP layer: application factory, shared dependencies, error handling, pages."""

"""Who did what, when: an append-only log per workspace."""

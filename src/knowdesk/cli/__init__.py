"""The `knowdesk` command."""

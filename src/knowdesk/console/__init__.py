"""The console: server-rendered pages for agents, knowledge editors, reviewers and owners."""

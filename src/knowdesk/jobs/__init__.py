"""Background work on a PostgreSQL-backed queue (procrastinate).

Jobs run inside the web process by default (the embedded set-up) or in `knowdesk worker`
processes when the deployment scales out; both take jobs from the same tables.
"""

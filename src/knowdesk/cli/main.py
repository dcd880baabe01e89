"""`knowdesk`: serve, run workers, manage the database and the knowledge base."""

from __future__ import annotations

import asyncio

import typer

from knowdesk.cli.admin import admin_app, demo_app
from knowdesk.cli.ask import ask
from knowdesk.cli.eval import eval_app
from knowdesk.cli.kb import kb_app
from knowdesk.cli.tickets import tickets_app
from knowdesk.config import get_settings
from knowdesk.mail.listener import mail_listener

app = typer.Typer(
    help="knowdesk: precise customer service from your knowledge base.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(tickets_app, name="tickets")
app.add_typer(admin_app, name="admin")
app.add_typer(demo_app, name="demo")
app.add_typer(eval_app, name="eval")
app.command("ask")(ask)
app.command("mail-listener")(mail_listener)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default from settings)."),
    port: int | None = typer.Option(None, help="Port (default from settings)."),
) -> None:
    """Start the web server (and, by default, the background worker in the same process)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "knowdesk.web.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        ws_max_size=1024 * 1024,
    )


@app.command()
def worker(concurrency: int = typer.Option(2, help="Jobs run at the same time.")) -> None:
    """Run background jobs (ingestion, embeddings, timers) in this process."""
    from knowdesk.db import migrate
    from knowdesk.jobs.queue import close_queue, open_queue, run_worker

    settings = get_settings()
    migrate.upgrade(settings)

    async def main() -> None:
        await open_queue(settings)
        try:
            # A worker process stops gracefully on SIGTERM/SIGINT, finishing its current jobs.
            await run_worker(concurrency=concurrency, install_signal_handlers=True)
        finally:
            await close_queue()

    asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration."""
    from knowdesk.db import migrate

    migrate.upgrade(get_settings())
    typer.echo("database is up to date")


@db_app.command("revision")
def db_revision(
    message: str = typer.Option(..., "-m", help="What the migration does."),
    rev_id: str | None = typer.Option(None, help="Revision id (default: random)."),
) -> None:
    """Write a migration from the difference between the models and the database."""
    from knowdesk.db import migrate

    migrate.make_revision(message, get_settings(), rev_id=rev_id)

"""`knowdesk kb …`: the knowledge base of a running server, through the Python SDK."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, get_args

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from knowdesk.client import IndexProgress, KnowdeskAPIError, KnowdeskClient
from knowdesk.kb.models import EntryKind, EntryStatus, IndexStatus
from knowdesk.kb.schemas import EntryDetail, EntryRead, ExportFormat, ImportResult

kb_app = typer.Typer(
    help="The knowledge base of a running knowdesk server (import, export, review, history).",
    no_args_is_help=True,
)

out = Console(highlight=False, soft_wrap=True)
# Progress bars and errors go to standard error, so standard output stays the command's result.
err = Console(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_URL = "http://127.0.0.1:8000"
_SERVER = "Server and sign-in"

UrlOption = Annotated[
    str,
    typer.Option(envvar="KNOWDESK_URL", help="The knowdesk server.", rich_help_panel=_SERVER),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(envvar="KNOWDESK_API_KEY", help="An API key (kd_…).", rich_help_panel=_SERVER),
]
EmailOption = Annotated[
    str | None,
    typer.Option(
        envvar="KNOWDESK_EMAIL", help="Sign in as this person instead.", rich_help_panel=_SERVER
    ),
]
PasswordOption = Annotated[
    str | None,
    typer.Option(
        envvar="KNOWDESK_PASSWORD",
        help="Password for --email (asked for when missing).",
        rich_help_panel=_SERVER,
    ),
]
WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        envvar="KNOWDESK_WORKSPACE",
        help="Workspace id or slug, for a person in several workspaces.",
        rich_help_panel=_SERVER,
    ),
]
EntryIdArgument = Annotated[uuid.UUID, typer.Argument(help="The entry's id (see `kb list`).")]


def fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True, soft_wrap=True)
    return typer.Exit(1)


@contextmanager
def connected(
    url: str, api_key: str | None, email: str | None, password: str | None, workspace: str | None
) -> Iterator[KnowdeskClient]:
    """A signed-in client; API errors, an unreachable server or indexing that does not finish
    in time end the command with code 1."""
    if not api_key and not email:
        raise fail("give --api-key or --email (or set KNOWDESK_API_KEY or KNOWDESK_EMAIL)")
    client = KnowdeskClient(url, api_key=api_key, workspace=workspace)
    try:
        if not api_key:
            assert email is not None
            secret = password or typer.prompt(f"Password for {email}", hide_input=True)
            client.accounts.login(email, secret)
        yield client
    except KnowdeskAPIError as exc:
        raise fail(f"{exc.message} ({exc.status})") from None
    except httpx.TransportError as exc:
        raise fail(f"cannot reach {url}: {exc}") from None
    except TimeoutError as exc:
        raise fail(f"{exc}; they are still queued, see `knowdesk kb list`") from None
    finally:
        client.close()


def _collection_id(client: KnowdeskClient, name: str) -> uuid.UUID:
    found = client.kb.find_collection(name)
    if found is None:
        raise fail(f"no collection named {name!r}")
    return found.id


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err,
    )


# -- import and export -----------------------------------------------------------------------


def _upload(
    client: KnowdeskClient, collection_id: uuid.UUID, files: Sequence[Path], publish: bool
) -> list[ImportResult]:
    with _progress() as progress:
        task = progress.add_task("Uploading", total=len(files))
        return client.kb.import_files(
            collection_id,
            files,
            publish=publish,
            on_result=lambda _: progress.advance(task),
        )


def _wait_indexed(client: KnowdeskClient, entry_ids: list[uuid.UUID]) -> list[EntryDetail]:
    with _progress() as progress:
        task = progress.add_task("Indexing", total=len(entry_ids))

        def show(state: IndexProgress) -> None:
            progress.update(task, completed=state.finished)

        return client.kb.wait_indexed(entry_ids, on_progress=show)


def _report(results: Sequence[ImportResult]) -> int:
    """Print each file's outcome and every error; return how many errors there were."""
    errors = 0
    for result in results:
        out.print(
            f"{result.filename}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged, {len(result.errors)} errors"
        )
        for error in result.errors:
            where = f"{error.filename}, row {error.row}" if error.row else error.filename
            err.print(f"  error: {where}: {error.message}", soft_wrap=True)
        errors += len(result.errors)
    return errors


def _report_index_failures(results: Sequence[ImportResult], entries: Sequence[EntryDetail]) -> int:
    file_of = {entry_id: r.filename for r in results for entry_id in r.entry_ids}
    failed = [e for e in entries if e.index_status == IndexStatus.FAILED]
    for entry in failed:
        err.print(
            f"  error: {file_of.get(entry.id, '?')}: indexing {entry.title!r} ({entry.id}) "
            f"failed: {entry.index_error}",
            soft_wrap=True,
        )
    return len(failed)


@kb_app.command("import")
def import_files(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="FAQ files (.jsonl .json .csv .xlsx) and documents (.md .html .pdf .docx .txt).",
        ),
    ],
    collection: Annotated[
        str, typer.Option("--collection", "-c", help="Collection name; made when missing.")
    ],
    publish: Annotated[
        bool, typer.Option(help="Publish at once (reviewers and owners); else drafts.")
    ] = False,
    wait: Annotated[bool, typer.Option(help="Wait until the entries are indexed.")] = True,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Import FAQ files and documents into a collection; exit code 1 if anything failed."""
    with connected(url, api_key, email, password, workspace) as client:
        collection_id = client.kb.ensure_collection(collection).id
        results = _upload(client, collection_id, files, publish)
        errors = _report(results)
        entry_ids = [entry_id for r in results for entry_id in r.entry_ids]
        if wait and entry_ids:
            errors += _report_index_failures(results, _wait_indexed(client, entry_ids))
    total = {k: sum(getattr(r, k) for r in results) for k in ("created", "updated", "unchanged")}
    out.print(
        f"{len(results)} files: {total['created']} created, {total['updated']} updated, "
        f"{total['unchanged']} unchanged, {errors} errors"
    )
    if errors:
        raise typer.Exit(1)


def _format_of(path: Path) -> ExportFormat:
    suffix = path.suffix.lower().lstrip(".")
    known: tuple[ExportFormat, ...] = get_args(ExportFormat)
    return next((f for f in known if f == suffix), "jsonl")


@kb_app.command("export")
def export(
    collection: Annotated[str, typer.Option("--collection", "-c", help="Collection name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.", dir_okay=False)],
    file_format: Annotated[
        ExportFormat | None,
        typer.Option("--format", "-f", help="File format (default: from the file's extension)."),
    ] = None,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Export a collection's FAQ entries to a file that imports back."""
    chosen = file_format or _format_of(output)
    with connected(url, api_key, email, password, workspace) as client:
        data = client.kb.export_faq(_collection_id(client, collection), chosen)
    output.write_bytes(data)
    out.print(f"wrote {len(data):,} bytes of {chosen} to {output}")


# -- reading entries -------------------------------------------------------------------------


def _versions(entry: EntryRead) -> str:
    live = entry.published_version
    return f"{entry.current_version}" + (f" (live {live})" if live else "")


@kb_app.command("list")
def list_entries(
    collection: Annotated[
        str | None, typer.Option("--collection", "-c", help="Only this collection.")
    ] = None,
    status: Annotated[EntryStatus | None, typer.Option(help="Only entries in this state.")] = None,
    kind: Annotated[EntryKind | None, typer.Option(help="Only FAQ entries or documents.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="At most this many.")] = 100,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """List entries, newest first."""
    with connected(url, api_key, email, password, workspace) as client:
        collection_id = _collection_id(client, collection) if collection else None
        entries = client.kb.list_entries(
            collection_id=collection_id, status=status, kind=kind, limit=limit
        )
    table = Table("id", "kind", "status", "version", "index", "lang", "title")
    table.columns[0].no_wrap = True
    table.columns[0].min_width = 36
    for e in entries:
        table.add_row(
            str(e.id), e.kind, e.status, _versions(e), e.index_status, e.language, e.title
        )
    out.print(table)
    out.print(f"{len(entries)} entries")


def _print_content(content: dict[str, Any]) -> None:
    if "question" in content:
        out.print(f"[bold]Q:[/bold] {content['question']}")
        for similar in content["similar"]:
            out.print(f"   ~ {similar}")
        out.print(f"[bold]A:[/bold] {content['answer']}")
        return
    out.print(f"[bold]{content['title']}[/bold] ({content['filename']})")
    for block in content["blocks"]:
        prefix = "#" * len(block["heading_path"]) + " " if block["kind"] == "heading" else ""
        out.print(prefix + block["text"])


@kb_app.command("show")
def show(
    entry_id: EntryIdArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Show an entry: state, labels and its newest content."""
    with connected(url, api_key, email, password, workspace) as client:
        entry = client.kb.get_entry(entry_id)
    out.print(f"[bold]{entry.title}[/bold]  {entry.id}")
    out.print(
        f"{entry.kind} · {entry.status} · version {_versions(entry)} · index {entry.index_status}"
        f" · {entry.language} · {entry.question_type}"
    )
    if entry.index_error:
        out.print(f"[red]index error:[/red] {entry.index_error}")
    if entry.tags or entry.keywords:
        out.print(f"tags: {', '.join(entry.tags) or '-'} · keywords: {', '.join(entry.keywords)}")
    out.print()
    _print_content(entry.content)


@kb_app.command("history")
def history(
    entry_id: EntryIdArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Show an entry's versions and reviews."""
    with connected(url, api_key, email, password, workspace) as client:
        found = client.kb.history(entry_id)
    versions = Table("version", "when", "author", "note", title="Versions")
    for v in found.versions:
        versions.add_row(
            str(v.number), f"{v.created_at:%Y-%m-%d %H:%M}", str(v.author_id or "-"), v.note
        )
    out.print(versions)
    if found.reviews:
        reviews = Table("version", "when", "decision", "reviewer", "comment", title="Reviews")
        for r in found.reviews:
            reviews.add_row(
                str(r.version),
                f"{r.created_at:%Y-%m-%d %H:%M}",
                r.decision,
                str(r.reviewer_id or "-"),
                r.comment,
            )
        out.print(reviews)


# -- changing entries ------------------------------------------------------------------------


def _print_state(entry: EntryRead) -> None:
    out.print(f"{entry.id}: {entry.status}, version {_versions(entry)}, {entry.title}")


@kb_app.command("publish")
def publish(
    entry_id: EntryIdArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Publish an entry's newest version without review (reviewers and owners)."""
    with connected(url, api_key, email, password, workspace) as client:
        _print_state(client.kb.publish(entry_id))


@kb_app.command("archive")
def archive(
    entry_id: EntryIdArgument,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Take an entry out of customers' reach (its history stays)."""
    with connected(url, api_key, email, password, workspace) as client:
        _print_state(client.kb.archive(entry_id))


@kb_app.command("rollback")
def rollback(
    entry_id: EntryIdArgument,
    version: Annotated[int, typer.Option(min=1, help="The version whose content comes back.")],
    publish: Annotated[bool, typer.Option(help="Publish the result at once.")] = False,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Make a new version with an old version's content (history is never rewritten)."""
    with connected(url, api_key, email, password, workspace) as client:
        _print_state(client.kb.rollback(entry_id, version, publish=publish))

"""`knowdesk ask "…"`: put a question to a running server's answer path, as a customer would."""

from __future__ import annotations

import json
import uuid
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from knowdesk.cli.kb import (
    DEFAULT_URL,
    ApiKeyOption,
    EmailOption,
    PasswordOption,
    UrlOption,
    WorkspaceOption,
    _collection_id,
    connected,
    out,
)
from knowdesk.client import KnowdeskClient
from knowdesk.retrieval.schemas import AnswerResult


def _collection(client: KnowdeskClient, id_or_name: str) -> uuid.UUID:
    try:
        return uuid.UUID(id_or_name)
    except ValueError:
        return _collection_id(client, id_or_name)


def print_answer(result: AnswerResult) -> None:
    """The decision, the answer, where it came from, what else was offered, and why."""
    out.print(f"[bold]decision:[/bold] {result.decision}  (confidence {result.confidence:.3f})")
    if result.resolved_question:
        out.print(f"[bold]question:[/bold] {escape(result.resolved_question)}")
    if result.answer is not None:
        out.print(f"[bold]answer:[/bold] {escape(result.answer)}")
    if result.sources:
        table = Table("entry", "title", "heading path", "kind", "score", title="Sources")
        table.columns[0].no_wrap = True
        for source in result.sources:
            table.add_row(
                str(source.entry_id),
                escape(source.title),
                escape(" / ".join(source.heading_path)) or "-",
                source.kind,
                f"{source.score:.3f}",
            )
        out.print(table)
    if result.suggestions:
        out.print("[bold]suggestions:[/bold]")
        for number, suggestion in enumerate(result.suggestions, start=1):
            out.print(f"  {number}. {escape(suggestion.question)}  ({suggestion.entry_id})")
    scores = "  ".join(f"{name} {value:g}" for name, value in result.scores.items())
    out.print(f"[bold]scores:[/bold] {scores}")


def ask(
    question: Annotated[str, typer.Argument(help="The question, as a customer would write it.")],
    history: Annotated[
        list[str] | None,
        typer.Option(
            "--history", help="An earlier customer turn, oldest first (repeat the option)."
        ),
    ] = None,
    collection: Annotated[
        list[str] | None,
        typer.Option(
            "--collection", "-c", help="Search only this collection, by id or name (repeatable)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the server's JSON answer instead.")
    ] = False,
    url: UrlOption = DEFAULT_URL,
    api_key: ApiKeyOption = None,
    email: EmailOption = None,
    password: PasswordOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Ask the knowledge base a question and show the decision, answer, sources and scores."""
    with connected(url, api_key, email, password, workspace) as client:
        collection_ids = [_collection(client, c) for c in collection] if collection else None
        result = client.answers.ask(question, history=history or (), collection_ids=collection_ids)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        print_answer(result)

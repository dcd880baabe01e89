"""`knowdesk eval faq|intents FOLDER`: measure the answer path and the intent classifier.

`eval faq`: the set is imported through the normal FAQ importer into a new, throw-away
workspace, published, indexed and calibrated by the server's own jobs; then every query is asked
through `POST /api/v1/ask`. Without --url a server of its own is started on a temporary data folder
(embedded PostgreSQL) and removed afterwards. See `knowdesk.retrieval.evaluation` for what the
figures mean.

`eval intents`: trains the ticket intent classifier and a TF-IDF + logistic-regression baseline
on `train.jsonl` and tests both on `test.jsonl`, in this process (no server: the classifier is
what a workspace trains from its own examples); see `knowdesk.tickets.intents.evaluate`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import httpx
import typer

from knowdesk.cli.kb import _progress, err, fail, out
from knowdesk.client import KnowdeskAPIError, KnowdeskClient
from knowdesk.kb.models import IndexStatus
from knowdesk.kb.schemas import EntryDetail
from knowdesk.kb.units import entry_units
from knowdesk.retrieval.evaluation import (
    FaqReport,
    FaqSet,
    FaqSetError,
    PolicyTally,
    answered_entry,
    bm25_ranks,
    load_faq_set,
    percentile,
    rank_of,
    retrieval_figures,
)
from knowdesk.tickets.intents import evaluate_intents, format_intent_result

eval_app = typer.Typer(help="Measure the answer path on evaluation sets.", no_args_is_help=True)

SERVER_START_SECONDS = 120


# -- a server of our own ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise fail(f"the server exited with code {process.returncode}; see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise fail(f"the server did not start within {SERVER_START_SECONDS} s; see {log}")


@contextmanager
def own_server(keep: bool) -> Iterator[str]:
    """A knowdesk server (with its worker) on a new temporary data folder; yields its URL."""
    folder = Path(tempfile.mkdtemp(prefix="knowdesk-eval-"))
    port = _free_port()
    env = {**os.environ, "KNOWDESK_DATA": str(folder / "data"), "KNOWDESK_ALLOW_SIGNUP": "true"}
    env.pop("DATABASE_URL", None)
    env.pop("KNOWDESK_DATABASE_URL", None)
    log = folder / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "knowdesk", "serve", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
    # Stopped from outside, still stop the server (and with it the embedded PostgreSQL).
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    url = f"http://127.0.0.1:{port}"
    try:
        err.print(f"starting a server on {folder} ...")
        _wait_healthy(url, process, log)
        yield url
    finally:
        # SIGINT, not SIGTERM: uvicorn re-raises SIGTERM after shutting down, which kills
        # Python before the exit handler that stops the embedded PostgreSQL runs.
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        signal.signal(signal.SIGTERM, previous)
        if keep:
            err.print(f"kept {folder} (server log and database)")
        else:
            shutil.rmtree(folder, ignore_errors=True)


# -- a throw-away workspace ------------------------------------------------------------------


def throwaway_workspace(
    url: str, email: str | None, password: str | None, name: str
) -> KnowdeskClient:
    """A client acting in a new workspace: one `email` creates and owns, else a new sign-up."""
    http = httpx.Client(base_url=url.rstrip("/"), timeout=60)
    try:
        if email:
            secret = password or typer.prompt(f"Password for {email}", hide_input=True)
            login = http.post("/api/v1/auth/login", json={"email": email, "password": secret})
            token = _checked(login)["token"]
            auth = {"Authorization": f"Bearer {token}"}
            made = http.post("/api/v1/workspaces", json={"name": name}, headers=auth)
            return KnowdeskClient(url, token=token, workspace=_checked(made)["slug"], timeout=600)
        signup = http.post(
            "/api/v1/auth/signup",
            json={
                "email": f"eval-{uuid.uuid4().hex[:12]}@example.com",
                "password": uuid.uuid4().hex,
                "name": "Evaluation",
                "workspace_name": name,
            },
        )
        if signup.status_code == 403:
            raise fail("the server does not allow sign-up: give --email (and --password)")
        return KnowdeskClient(url, token=_checked(signup)["token"], timeout=600)
    finally:
        http.close()


def _checked(response: httpx.Response) -> dict[str, str]:
    """The strings of a JSON answer (a token, a slug); an error answer raises."""
    if response.is_error:
        raise KnowdeskAPIError.from_response(response)
    return {k: v for k, v in response.json().items() if isinstance(v, str)}


# -- the evaluation --------------------------------------------------------------------------


def _import(client: KnowdeskClient, faq: FaqSet, timeout: float) -> dict[str, EntryDetail]:
    """Import, publish and index the set; returns the entries by their id in kb.jsonl."""
    collection = client.kb.create_collection(f"eval {faq.name}")
    (result,) = client.kb.import_faq_files(collection.id, [faq.kb_path], publish=True)
    for error in result.errors:
        err.print(f"  import error, row {error.row}: {error.message}", soft_wrap=True)
    with _progress() as progress:
        task = progress.add_task("Indexing", total=len(result.entry_ids))
        entries = client.kb.wait_indexed(
            result.entry_ids,
            timeout=timeout,
            poll_interval=1.0,
            on_progress=lambda state: progress.update(task, completed=state.finished),
        )
    failed = [e for e in entries if e.index_status == IndexStatus.FAILED]
    if failed:
        err.print(f"  {len(failed)} entries failed to index, first: {failed[0].index_error}")
    return {e.external_id: e for e in entries if e.external_id}


def _wait_calibrated(client: KnowdeskClient, units: int, timeout: float) -> None:
    """Until a calibration has seen every unit (one runs after each indexing job; the last
    one, queued after the last entry, covers them all)."""
    deadline = time.monotonic() + timeout
    with err.status("Calibrating ..."):
        while time.monotonic() < deadline:
            calibration = client.answers.calibration()
            if calibration.calibrated and calibration.units >= units:
                return
            time.sleep(1.0)
    raise TimeoutError(f"the workspace was not calibrated on {units} units within {timeout:.0f} s")


def evaluate_faq(client: KnowdeskClient, faq: FaqSet, timeout: float) -> FaqReport:
    entries = _import(client, faq, timeout)
    units = sum(len(entry_units(e.published_content or {})) for e in entries.values())
    _wait_calibrated(client, units, timeout)
    ranks: list[int | None] = []
    tally = PolicyTally()
    latencies: list[float] = []
    with _progress() as progress:
        task = progress.add_task("Asking", total=len(faq.queries))
        for query in faq.queries:
            started = time.perf_counter()
            result = client.answers.ask(query.text, explain=True)
            latencies.append((time.perf_counter() - started) * 1000)
            expected = entries.get(query.faq_id) if query.faq_id else None
            expected_id = str(expected.id) if expected else None
            if query.faq_id is not None:
                ranked = [str(r.entry_id) for r in result.ranking or []]
                ranks.append(rank_of(expected_id, ranked) if expected_id else None)
                # An entry that failed to import can never be answered right.
                expected_id = expected_id or f"missing:{query.faq_id}"
            tally.add(expected_id, result.decision, answered_entry(result))
            progress.advance(task)
    return FaqReport(
        name=faq.name,
        retrieval=retrieval_figures(ranks),
        policy=tally.figures(),
        baseline=retrieval_figures(bm25_ranks(faq.entries, faq.queries)),
        latency_p50_ms=round(percentile(latencies, 50), 1),
        latency_p95_ms=round(percentile(latencies, 95), 1),
        answerable=tally.answerable,
        out_of_scope=tally.oos,
    )


@eval_app.command("faq")
def faq(
    folder: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="An FAQ set: kb.jsonl and queries.jsonl."
        ),
    ],
    json_file: Annotated[
        Path | None,
        typer.Option("--json", dir_okay=False, help="Also write the figures to this file."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            help="Evaluate on this running server (default: start one on a temporary folder)."
        ),
    ] = None,
    email: Annotated[
        str | None,
        typer.Option(
            envvar="KNOWDESK_EMAIL",
            help="With --url: the person who creates the throw-away workspace (default: a "
            "new sign-up, if the server allows it).",
        ),
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="KNOWDESK_PASSWORD", help="Password for --email (asked when missing)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for indexing, and again for calibration.")
    ] = 3600.0,
    keep: Annotated[
        bool, typer.Option(help="Keep the temporary data folder of the server started here.")
    ] = False,
) -> None:
    """Import an FAQ set into a throw-away workspace, ask all its queries, print one line of
    figures: retrieval, answer policy, a BM25 baseline of the same run, latency."""
    try:
        faq_set = load_faq_set(folder)
    except FaqSetError as exc:
        raise fail(str(exc)) from None
    name = f"eval {faq_set.name} {time.strftime('%Y-%m-%d %H:%M:%S')}"
    try:
        if url:
            with throwaway_workspace(url, email, password, name) as client:
                report = evaluate_faq(client, faq_set, timeout)
        else:
            with own_server(keep) as own_url, throwaway_workspace(own_url, None, None, name) as c:
                report = evaluate_faq(c, faq_set, timeout)
    except KnowdeskAPIError as exc:
        raise fail(f"{exc.message} ({exc.status})") from None
    except httpx.TransportError as exc:
        raise fail(f"cannot reach the server: {exc}") from None
    except TimeoutError as exc:
        raise fail(str(exc)) from None
    out.print(report.line())
    if json_file is not None:
        json_file.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")


INTENT_FILES = ("train.jsonl", "test.jsonl")


@eval_app.command("intents")
def intents(
    folder: Annotated[
        Path,
        typer.Argument(
            exists=True, file_okay=False, help="An intent set: train.jsonl and test.jsonl."
        ),
    ],
    json_file: Annotated[
        Path | None,
        typer.Option("--json", dir_okay=False, help="Also write the figures to this file."),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Keep the texts' embeddings here, for the next run on the set."
        ),
    ] = None,
) -> None:
    """Train the intent classifier and a TF-IDF + logistic-regression baseline on train.jsonl,
    test both on test.jsonl, print one line: in-scope accuracy, oos recall and precision."""
    missing = [name for name in INTENT_FILES if not (folder / name).is_file()]
    if missing:
        raise fail(f"{folder} has no {' or '.join(missing)}")
    try:
        with err.status("Training and testing ..."):
            result = evaluate_intents(folder, cache_folder=cache)
    except (ValueError, KeyError, TypeError) as exc:
        # A line that is no {"text", "label"} object, or too few intents to train on.
        raise fail(f"{folder}: {type(exc).__name__}: {exc}") from None
    out.print(format_intent_result(folder.name, result))
    if json_file is not None:
        json_file.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

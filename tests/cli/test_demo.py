"""`knowdesk demo load` into the test database, served by the session server."""

from __future__ import annotations

import httpx

from knowdesk.client import KnowdeskClient
from knowdesk.demo import loader
from knowdesk.kb.models import EntryKind, EntryStatus, IndexStatus
from tests.cli.helpers import knowdesk


def test_demo_loads_once_and_the_running_server_indexes_it(base_url: str) -> None:
    before = httpx.get(f"{base_url}/demo")
    assert before.status_code == 404 and "knowdesk demo load" in before.text
    first = knowdesk("demo", "load")
    assert first.returncode == 0, first.stderr
    assert "created the demo workspace 'Lumio Home' with 40 FAQ entries and 5 documents" in (
        first.stdout
    )
    assert f"{loader.OWNER_EMAIL} / {loader.PASSWORD}" in first.stdout
    again = knowdesk("demo", "load")
    assert again.returncode == 0, again.stderr
    assert "exists already; nothing to do" in again.stdout

    with KnowdeskClient(base_url) as kd:
        session = kd.accounts.login(loader.OWNER_EMAIL, loader.PASSWORD)
        assert [m.workspace.name for m in session.memberships] == ["Lumio Home"]
        assert {m.role for m in kd.accounts.members()} == {"owner", "agent", "reviewer"}
        assert sorted(c.name for c in kd.kb.list_collections()) == ["FAQ", "Manuals"]

        entries = kd.kb.list_entries(status=EntryStatus.PUBLISHED, limit=1000)
        faq = [e for e in entries if e.kind == EntryKind.FAQ]
        documents = [e for e in entries if e.kind == EntryKind.DOCUMENT]
        assert len(faq) == 40 and len(documents) == 5
        assert {e.language for e in faq} == {"zh", "en"}
        assert {e.language for e in documents} == {"zh", "en"}
        assert all(e.category_id is not None for e in documents)

        indexed = kd.kb.wait_indexed([e.id for e in entries], timeout=280)
        assert {e.index_status for e in indexed} == {IndexStatus.DONE}

        # The demo company's site carries the chat window of its website channel.
        [channel] = kd.chat.channels()
        assert channel.name == loader.CHANNEL_NAME and channel.bot_enabled
        [team] = kd.chat.teams()
        assert channel.team_id == team.id and len(team.member_ids) == 2  # owner and agent
    site = httpx.get(f"{base_url}/demo")
    assert site.status_code == 200 and "Lumio Home" in site.text
    assert f'data-widget-token="{channel.widget_token}"' in site.text
    assert 'src="/widget/knowdesk-chat.js"' in site.text

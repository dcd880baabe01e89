"""`KnowdeskClient`: the REST API from Python, one sub-object per domain."""

from __future__ import annotations

from types import TracebackType

from knowdesk.client.accounts import AccountsAPI
from knowdesk.client.answers import AnswersAPI
from knowdesk.client.chat import ChatAPI
from knowdesk.client.http import DEFAULT_TIMEOUT, ApiSession
from knowdesk.client.kb import KnowledgeBaseAPI


class KnowdeskClient:
    """A synchronous client of one knowdesk server, acting in one workspace.

        with KnowdeskClient("http://127.0.0.1:8000", api_key="kd_…") as kd:
            faq = kd.kb.ensure_collection("FAQ")
            results = kd.kb.import_files(faq.id, ["faq.xlsx", "manual.pdf"], publish=True)
            kd.kb.wait_indexed([i for r in results for i in r.entry_ids])

    Authenticate with an API key, a session token, or `client.accounts.login(email, password)`.
    A person in several workspaces names one with `workspace` (id or slug).
    Failed calls raise `KnowdeskAPIError`. Each domain has its own attribute (`accounts`, `kb`);
    a new domain adds one the same way.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        workspace: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._api = ApiSession(
            base_url, api_key=api_key, token=token, workspace=workspace, timeout=timeout
        )
        self.accounts = AccountsAPI(self._api)
        self.kb = KnowledgeBaseAPI(self._api)
        self.chat = ChatAPI(self._api)
        self.answers = AnswersAPI(self._api)

    @property
    def base_url(self) -> str:
        return str(self._api.http.base_url)

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> KnowdeskClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

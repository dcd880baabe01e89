"""Python SDK for the knowdesk REST API.

    from knowdesk.client import KnowdeskClient, KnowdeskAPIError

    kd = KnowdeskClient("http://127.0.0.1:8000", api_key="kd_…")
    entry = kd.kb.get_entry(entry_id)

Responses are the server's own pydantic schemas (`knowdesk.kb.schemas`, ...), so the SDK and the
API cannot drift apart.
"""

from knowdesk.client.client import KnowdeskClient
from knowdesk.client.errors import KnowdeskAPIError
from knowdesk.client.kb import FAQ_EXTENSIONS, FileInput, IndexProgress, is_faq_file

__all__ = [
    "FAQ_EXTENSIONS",
    "FileInput",
    "IndexProgress",
    "KnowdeskAPIError",
    "KnowdeskClient",
    "is_faq_file",
]

"""Every table, imported once so that SQLAlchemy's metadata (and Alembic) sees the whole schema.

Each domain adds its `models` module here.
"""

from knowdesk.accounts import models as accounts_models
from knowdesk.analytics import models as analytics_models
from knowdesk.audit import models as audit_models
from knowdesk.chat import models as chat_models
from knowdesk.db.base import Base
from knowdesk.kb import models as kb_models
from knowdesk.mail import models as mail_models
from knowdesk.retrieval import models as retrieval_models
from knowdesk.tickets import models as tickets_models
from knowdesk.webhooks import models as webhooks_models

__all__ = [
    "Base",
    "accounts_models",
    "analytics_models",
    "audit_models",
    "chat_models",
    "kb_models",
    "mail_models",
    "retrieval_models",
    "tickets_models",
    "webhooks_models",
]

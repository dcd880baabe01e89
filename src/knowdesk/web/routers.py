"""Every API router, in one list. Each domain adds its router here."""

from fastapi import APIRouter

from knowdesk.accounts.endpoints import router as accounts_router
from knowdesk.analytics.endpoints import router as analytics_router
from knowdesk.audit.endpoints import router as audit_router
from knowdesk.chat.endpoints import router as chat_router
from knowdesk.console.pages import router as console_router
from knowdesk.demo.page import router as demo_router
from knowdesk.kb.endpoints import router as kb_router
from knowdesk.mail.endpoints import router as mail_router
from knowdesk.retrieval.endpoints import router as retrieval_router
from knowdesk.retrieval.settings_endpoints import router as llm_settings_router
from knowdesk.tickets.endpoints import router as tickets_router
from knowdesk.webhooks.endpoints import router as webhooks_router

ROUTERS: list[APIRouter] = [
    accounts_router,
    audit_router,
    kb_router,
    retrieval_router,
    llm_settings_router,
    chat_router,
    tickets_router,
    webhooks_router,
    mail_router,
    console_router,
    analytics_router,
    demo_router,
]

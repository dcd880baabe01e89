"""The search index: one row per searchable unit, plus per-workspace keyword statistics.

A unit is an FAQ question, one of its similar questions, its answer, or a chunk of a document,
always of the entry's *published* version. Dense vectors (pgvector, cosine, HNSW) and BM25
document weights (sparsevec, inner product) sit on the same row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pgvector import SparseVector
from pgvector.sqlalchemy import SPARSEVEC, Vector
from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from knowdesk.db.base import Base, IdMixin, TimestampMixin, WorkspaceScoped, utcnow
from knowdesk.retrieval.sparse import SPARSE_DIM

EMBEDDING_DIM = 384


class SearchUnit(IdMixin, TimestampMixin, WorkspaceScoped, Base):
    __tablename__ = "search_units"
    __table_args__ = (
        Index("ix_search_units_entry", "workspace_id", "entry_id"),
        Index("ix_search_units_scope", "workspace_id", "collection_id"),
        Index(
            "ix_search_units_embedding",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        # A large workspace's keyword search reads only the units sharing the question's rarer
        # terms (see `search.QueryVector.rare_dims`).
        Index("ix_search_units_terms", "term_dims", postgresql_using="gin"),
    )

    collection_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    entry_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("kb_entries.id", ondelete="CASCADE")
    )
    entry_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # question | similar | answer | chunk
    ordinal: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    heading_path: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    page: Mapped[int | None] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    # Keyword side: BM25 weights, the avgdl they were computed with, and what stats must forget
    # when the unit goes (its distinct term dimensions and its length).
    sparse: Mapped[SparseVector] = mapped_column(SPARSEVEC(SPARSE_DIM))
    term_dims: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    term_length: Mapped[int] = mapped_column(Integer)
    avgdl_snapshot: Mapped[float] = mapped_column(Float)
    # Dense side: filled by the embedding step of the indexing job (NULL until then).
    embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIM))
    embedding_model: Mapped[str | None] = mapped_column(String(80))
    # Questions only: the same text embedded as a query, so that calibration can ask the KB its
    # own questions the way customers ask them (e5 embeds queries and passages differently).
    query_embedding: Mapped[list[float] | None] = mapped_column(Vector(EMBEDDING_DIM))


class Calibration(Base):
    """A workspace's fusion scale and decision thresholds, learnt from its own content."""

    __tablename__ = "search_calibration"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    units: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow
    )


class TermFrequency(Base):
    """How many units of a workspace contain a (hashed) term: the df of BM25's idf."""

    __tablename__ = "search_term_df"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    dim: Mapped[int] = mapped_column(Integer, primary_key=True)
    df: Mapped[int] = mapped_column(Integer)


class CorpusTotals(Base):
    """Unit count and summed length of a workspace's index: N and avgdl of BM25."""

    __tablename__ = "search_corpus"

    workspace_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    units: Mapped[int] = mapped_column(Integer, default=0)
    total_length: Mapped[int] = mapped_column(BigInteger, default=0)

"""Document ingestion without a database: decode, parse and chunk uploaded files.

doc = parse_document("guide.pdf", data)      # raises IngestError for any bad upload
chunks = chunk_document(doc, target_chars=500)
"""

from .chunking import DEFAULT_TARGET_CHARS, Chunk, chunk_document
from .document import Block, BlockKind, ParsedDocument
from .errors import IngestError
from .formats import SUPPORTED_EXTENSIONS
from .ingest import DEFAULT_MAX_BYTES, parse_document

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TARGET_CHARS",
    "SUPPORTED_EXTENSIONS",
    "Block",
    "BlockKind",
    "Chunk",
    "IngestError",
    "ParsedDocument",
    "chunk_document",
    "parse_document",
]

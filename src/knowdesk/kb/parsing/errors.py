"""The one exception every ingestion failure surfaces as."""

from __future__ import annotations


class IngestError(Exception):
    """A document could not be read; `str()` names the file so the uploader knows which one."""

    def __init__(self, filename: str, message: str) -> None:
        super().__init__(f"{filename}: {message}")
        self.filename = filename
        self.message = message

"""Uploaded files stay in memory while a request is parsed (Art 12).

Werkzeug spools every multipart file part larger than 500 KB into a
temporary file. An evidence photo of a drawn unit's premises would then
lie in clear text in the system temp directory (and in its disk blocks
after the file is gone) before the app encrypts it. Uploads are bounded by
MAX_CONTENT_LENGTH and read whole anyway (evidence is encrypted in memory;
an import is checked and then stored), so keeping the parts in memory
costs nothing extra.
"""
from __future__ import annotations

from io import BytesIO
from typing import IO, Optional

from flask import Request


class InMemoryUploadRequest(Request):
    def _get_file_stream(
        self,
        total_content_length: Optional[int],
        content_type: Optional[str],
        filename: Optional[str] = None,
        content_length: Optional[int] = None,
    ) -> IO[bytes]:
        return BytesIO()

"""The only way WeasyPrint may read anything: bundled files under ``templates/documents/``.

RELIABILITY promise 10: the PDF renderer loads only bundled assets. Untrusted text is escaped
by the templates, so it can never become an ``<img>`` or a stylesheet; this fetcher is the
second wall, for a template mistake or a hostile SVG. It serves ``file:`` URLs that resolve
(symbolic links followed) to ``print.css`` or to a file under ``assets/``, and refuses
everything else, including ``http(s):`` (no network, hence no redirects), ``data:`` (nothing
bundled needs it, and refusing it keeps the rule "only files we ship"), ``file:`` outside
the folder, and URLs with a query. A refusal stops the rendering (``fail_on_errors``): a
signed document is never produced with a hole where something failed to load.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint.urls import URLFetcher, URLFetcherResponse

from connector.documents.model import DocumentError


class AssetRefused(DocumentError):
    """The renderer asked for something that is not a bundled asset."""


class AssetFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """A WeasyPrint URL fetcher serving only ``<root>/print.css`` and ``<root>/assets/**``."""

    def __init__(self, root: Path) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False,
                         fail_on_errors=True)
        self.root = root.resolve()
        self.stylesheet = self.root / "print.css"
        self.assets = self.root / "assets"

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Return the file behind ``url``, or raise AssetRefused."""
        path = self.resolve(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=path.read_bytes(),
                                  headers={"Content-Type": content_type})

    def resolve(self, url: str) -> Path:
        """The bundled file ``url`` names; AssetRefused for anything else."""
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost") or parts.query:
            raise AssetRefused(f"refused to load {url!r}: only bundled files may be loaded")
        try:
            path = Path(url2pathname(unquote(parts.path))).resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise AssetRefused(f"refused to load {url!r}: no such bundled file") from exc
        inside = path == self.stylesheet or path.is_relative_to(self.assets)
        if not inside or not path.is_file():
            raise AssetRefused(f"refused to load {url!r}: outside {self.assets}")
        return path

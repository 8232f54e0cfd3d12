"""What WeasyPrint keeps between two PDF renderings in one thread: fonts, stylesheet, images.

A service renders many documents in one process, and each rendering used to start from
nothing: a new ``FontConfiguration`` (fontconfig and a Pango font map), ``print.css`` fetched
and parsed again (tinycss2, then cssselect2 compiling every selector with ``eval``) and the
letterhead logo parsed again. Profiling one Berita Acara (issue 18) put a fifth of its time
there. Each thread now keeps one of each: the stylesheet is parsed with that thread's
``FontConfiguration`` (WeasyPrint wants one per document for ``@font-face``, so the two are
kept as a pair), and WeasyPrint's image cache holds the parsed logo. Per thread, because
Pango's font maps are not made to be shared between threads.

Nothing is loaded differently: the stylesheet and the images still come through an
``AssetFetcher`` (only bundled files), and the PDF is the same, byte for byte, as one
rendered from nothing (``tests/test_documents_render.py``). When ``print.css`` or a file in
``assets/`` changes on disk (a new lambang daerah under the same name), the next rendering in
each thread starts afresh.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from weasyprint import CSS
from weasyprint.text.fonts import FontConfiguration

from connector.documents.fetcher import AssetFetcher

Stamp = tuple[tuple[str, int, int], ...]


@dataclass
class Warm:
    """One thread's FontConfiguration, the stylesheet parsed with it, and parsed images."""

    root: Path
    stamp: Stamp
    font_config: Any
    stylesheet: Any
    images: dict[str, Any] = field(default_factory=dict)


_local = threading.local()


def stylesheet(root: Path, fetcher: AssetFetcher, font_config: Any) -> Any:
    """``<root>/print.css`` parsed by WeasyPrint, fetched through ``fetcher``."""
    uri = (root / "print.css").resolve().as_uri()
    return CSS(url=uri, url_fetcher=fetcher, font_config=font_config)


def warm(root: Path) -> Warm:
    """This thread's state for the documents under ``root``, made again if a file changed."""
    root = root.resolve()
    stamp = _stamp(root)
    current: Warm | None = getattr(_local, "warm", None)
    if current is None or current.root != root or current.stamp != stamp:
        font_config = FontConfiguration()
        current = Warm(root, stamp, font_config,
                       stylesheet(root, AssetFetcher(root), font_config))
        _local.warm = current
    return current


def _stamp(root: Path) -> Stamp:
    """Name, modification time and size of ``print.css`` and of every entry in ``assets/``."""
    entries = [root / "print.css"]
    with contextlib.suppress(FileNotFoundError):
        entries += sorted(Path(e.path) for e in os.scandir(root / "assets"))
    stamp = []
    for path in entries:
        with contextlib.suppress(FileNotFoundError):
            info = path.stat()
            stamp.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(stamp)

"""File texts by git blob id, so the step 12 gate reads a file again only once it changed.

The repository tree (Repositories API, "List repository tree") gives each file's blob
``id``, git's object id of its content: the same id is the same bytes, whoever asks and
whenever. So a text read once by its id (Repositories API, "Raw blob content") stays true
for that id, and the gate and the Berita Acara, which list the tree each time, read only
the files whose id they have not seen. What the gate decides is still decided from the
tree GitLab has now; only the bytes behind an id already read are not fetched again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from threading import Lock

MAX_TEXTS = 256  # a few cases' documents; the least recently used go first


def git_blob_id(data: bytes) -> str:
    """Git's id of a file with ``data`` (SHA-1 of ``blob <size>\\0`` and the bytes)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class BlobTexts:
    """A bounded map from blob id to the file's text, safe to share between worker threads."""

    def __init__(self, size: int = MAX_TEXTS) -> None:
        self._size = size
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def get(self, blob_id: str) -> str | None:
        with self._lock:
            text = self._texts.get(blob_id)
            if text is not None:
                self._texts.move_to_end(blob_id)
            return text

    def put(self, blob_id: str, text: str) -> None:
        with self._lock:
            self._texts[blob_id] = text
            self._texts.move_to_end(blob_id)
            while len(self._texts) > self._size:
                self._texts.popitem(last=False)

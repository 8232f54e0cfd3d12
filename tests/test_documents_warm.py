"""What a warm renderer keeps between documents changes nothing in them (issue 18)."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from connector.documents import DocumentKind
from connector.documents.fetcher import AssetFetcher
from connector.documents.render import documents_dir, layout, render_html, render_pdf
from connector.documents.warm import Warm, warm
from tests.test_documents_render import berita_acara, laporan, office, surat


def test_a_warm_rendering_is_the_same_bytes_as_one_from_nothing() -> None:
    """The kept stylesheet, fonts and logo give the PDF a fresh rendering gives, byte for
    byte: the stylesheet fetched and parsed anew and a new FontConfiguration each time."""
    s = office()
    for kind, doc in [(DocumentKind.BERITA_ACARA, berita_acara(s)),
                      (DocumentKind.LAPORAN, laporan(s)), (DocumentKind.SURAT, surat(s))]:
        html = render_html(kind, doc, s, link_stylesheet=False)
        cold = layout(html, AssetFetcher(documents_dir())).write_pdf()
        assert render_pdf(kind, doc, s) == cold
        assert render_pdf(kind, doc, s) == cold


def test_the_html_for_people_still_links_its_stylesheet() -> None:
    s = office()
    linked = render_html(DocumentKind.BERITA_ACARA, berita_acara(s), s)
    bare = render_html(DocumentKind.BERITA_ACARA, berita_acara(s), s, link_stylesheet=False)
    assert '<link rel="stylesheet" href="print.css" />' in linked
    assert "<link" not in bare
    assert linked.replace('\n<link rel="stylesheet" href="print.css" />', "", 1) == bare


def test_one_state_per_thread_made_again_when_a_file_changes(tmp_path: Path) -> None:
    root = tmp_path / "documents"
    shutil.copytree(documents_dir(), root)
    first = warm(root)
    assert warm(root) is first

    logo = root / "assets" / "logo-sumbawa.svg"
    later = logo.stat().st_mtime_ns + 10**9
    os.utime(logo, ns=(later, later))  # a new lambang daerah under the same name
    renewed = warm(root)
    assert renewed is not first and renewed.font_config is not first.font_config
    assert warm(root) is renewed

    other: list[Warm] = []
    thread = threading.Thread(target=lambda: other.append(warm(root)))
    thread.start()
    thread.join()
    assert other[0] is not renewed and other[0].font_config is not renewed.font_config

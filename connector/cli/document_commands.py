"""``sop-connector documents CASE``: a preview of the case's documents, written to files.

A preview attaches nothing and issues no number: it shows the number already issued, or
"(pratinjau)". A refused case (step 7) gets the laporan ketidaktersediaan and the letter to
the OPD; any other case the Berita Acara Pekerjaan (step 17) with what is known so far.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from connector.cli.context import config_option, settings_from
from connector.errors import ConnectorError

if TYPE_CHECKING:
    from connector.config.documents import DocumentSettings
    from connector.documents import model as doc
    from connector.services import Services
    from connector.sop.model import DocumentKind, Sop
    from connector.store.cases import Case

FORMATS = ("pdf", "docx", "html")


def preview_kinds(sop: Sop, case: Case) -> tuple[DocumentKind, ...]:
    """Step 7's documents for a refused case (or one at step 7), else step 17's."""
    from connector.sop.model import DocumentKind
    from connector.store.schema import CaseStatus

    refusal = sop.step_drawing_up(DocumentKind.LAPORAN_KETIDAKTERSEDIAAN)
    closing = sop.step_drawing_up(DocumentKind.BERITA_ACARA)
    refused = case.status is CaseStatus.REJECTED or case.current_step == refusal
    chosen = refusal if refused else closing
    return () if chosen is None else sop.step(chosen).documents


def preview_documents(services: Services, case: Case, out_dir: Path, fmt: str, *,
                      on: date | None = None) -> list[Path]:
    """Render the case's documents as ``fmt`` into ``out_dir``; return the files written."""
    from connector.documents.render import document_filename
    from connector.workflow.paperwork import KIND, build
    from connector.workflow.state import case_view

    settings = services.settings.documents
    if settings is None:
        raise ConnectorError("documents are not configured: add a [documents] section")
    if fmt not in FORMATS:
        raise ConnectorError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    with services.engine.connect() as conn:
        view = case_view(conn, case, services.calendar)
    documents = build(services, settings, case, view, preview_kinds(services.sop, case),
                      on or services.today(), preview=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, document in documents:
        path = out_dir / document_filename(KIND[kind], document, fmt)
        path.write_bytes(_render(fmt, KIND[kind], document, settings))
        written.append(path)
    if fmt == "html":
        _copy_assets(settings.kop.logo, out_dir)
    return written


def _render(fmt: str, kind: doc.DocumentKind, document: doc.Document,
            settings: DocumentSettings) -> bytes:
    from connector.documents.render import render_docx, render_html, render_pdf

    if fmt == "pdf":
        return render_pdf(kind, document, settings)
    if fmt == "docx":
        return render_docx(kind, document, settings)
    return render_html(kind, document, settings).encode("utf-8")


def _copy_assets(logo: str, out_dir: Path) -> None:
    """The stylesheet and logo the HTML links to relatively, so the preview opens as printed."""
    from connector.documents.render import documents_dir

    source = documents_dir()
    shutil.copyfile(source / "print.css", out_dir / "print.css")
    (out_dir / "assets").mkdir(exist_ok=True)
    shutil.copyfile(source / "assets" / logo, out_dir / "assets" / logo)


def register(main: click.Group) -> None:
    """Add ``documents`` to the main command."""

    @main.command()
    @config_option
    @click.argument("case")
    @click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path),
                  default=Path("."), show_default=True, help="Directory to write the files to.")
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="pdf",
                  show_default=True, help="File format of the preview.")
    def documents(config_path: str | None, case: str, output: Path, fmt: str) -> None:
        """Preview CASE's documents: nothing is attached and no number is issued."""
        from connector.bootstrap import bootstrap
        from connector.cli.codehost_commands import _case

        settings = settings_from(config_path)
        if settings.documents is None:
            raise ConnectorError("documents are not configured: add a [documents] section")
        services = bootstrap(settings)
        try:
            for path in preview_documents(services, _case(services, case), output, fmt):
                click.echo(str(path))
        finally:
            services.engine.dispose()

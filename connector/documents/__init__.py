"""The documents that end a case: the Berita Acara Pekerjaan (SOP step 17), and the laporan
ketidaktersediaan with the letter to the OPD (step 7), in PDF and DOCX as an office signs them.

The ``document_numbers`` table is declared with the others in ``connector.store.schema``.
Rendering lives in ``connector.documents.render`` and is not
imported here: it loads WeasyPrint and python-docx, which a worker that only issues numbers
does not need.
"""

from __future__ import annotations

from connector.config.documents import DocumentSettings, Kop, NumberPatterns, Official
from connector.documents.model import (
    DELIVERABLES,
    BeritaAcara,
    Deliverable,
    DevelopmentPeriod,
    Document,
    DocumentError,
    DocumentKind,
    Kekurangan,
    LaporanKetidaktersediaan,
    Opd,
    Representative,
    RequestLetter,
    SopReference,
    SuratKepadaOpd,
    TeamMember,
    Unavailability,
    deliverables_from_links,
)
from connector.documents.numbering import NumberingError, issue_number
from connector.documents.verification import kekurangan_from_findings, standard_next_steps
from connector.documents.words import kalimat_tanggal, tanggal_panjang, terbilang

__all__ = [
    "DELIVERABLES",
    "BeritaAcara",
    "Deliverable",
    "DevelopmentPeriod",
    "Document",
    "DocumentError",
    "DocumentKind",
    "DocumentSettings",
    "Kekurangan",
    "Kop",
    "LaporanKetidaktersediaan",
    "NumberPatterns",
    "NumberingError",
    "Official",
    "Opd",
    "Representative",
    "RequestLetter",
    "SopReference",
    "SuratKepadaOpd",
    "TeamMember",
    "Unavailability",
    "deliverables_from_links",
    "issue_number",
    "kalimat_tanggal",
    "kekurangan_from_findings",
    "standard_next_steps",
    "tanggal_panjang",
    "terbilang",
]

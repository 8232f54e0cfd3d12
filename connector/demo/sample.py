"""The demo's sample content, in Indonesian: the OPD's letter and the team's documents."""

from __future__ import annotations

import base64
from datetime import date
from functools import cache
from html import escape
from typing import Any


def sample_letter(serial: str, today: date) -> dict[str, Any]:
    """A request letter from Dinas Kesehatan; ``serial`` keeps its number unique."""
    return {
        "nomor_surat": f"027/{serial}/DINKES/{today.year}",
        "tanggal_surat": today.isoformat(),
        "opd": "DINKES",
        "perihal": "Permohonan Pembuatan Aplikasi Sistem Informasi Puskesmas",
        "nama_aplikasi": "SI Puskesmas",
        "deskripsi": ("Aplikasi pencatatan kunjungan pasien, rekam medis ringkas dan laporan "
                      "bulanan untuk 26 puskesmas di Kabupaten Sumbawa."),
        "kontak": {"nama": "dr. Siti Aminah", "jabatan": "Kepala Seksi Data dan Informasi",
                   "email": "siti.aminah@dinkes.sumbawakab.go.id", "telepon": "0371-21234"},
        "lampiran": [{
            "nama_file": "surat-permohonan.pdf", "content_type": "application/pdf",
            "isi_base64": base64.b64encode(sample_pdf(
                "Surat Permohonan Pembuatan Aplikasi",
                "Dengan hormat, Dinas Kesehatan Kabupaten Sumbawa memohon pembuatan aplikasi "
                "Sistem Informasi Puskesmas.")).decode(),
        }],
    }


@cache
def sample_pdf(title: str, body: str) -> bytes:
    """A one-page PDF with a title and a paragraph (WeasyPrint, no outside resources)."""
    from weasyprint import HTML

    html = (f"<html lang='id'><body style='font-family: serif'><h1>{escape(title)}</h1>"
            f"<p>{escape(body)}</p><p><i>Dokumen contoh dari demo sop-connector.</i></p>"
            "</body></html>")
    return bytes(HTML(string=html).write_pdf())

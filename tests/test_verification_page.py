"""``/verifikasi/<token>`` (issue 17): the public page of an issued document, and the upload
that tells whether a PDF is exactly the document we issued."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from connector.bootstrap import bootstrap
from connector.config import load_settings
from connector.config.secret import Secret
from connector.documents.issue import draw_up_for_signing, verification_url
from connector.documents.model import DocumentKind
from connector.services import Services
from connector.signing.democert import make_demo_certificates
from connector.signing.flow import sign_slot
from connector.signing.local import PyhankoSigner
from connector.signing.port import SignerIdentity
from connector.signing.verify import load_trust_roots
from connector.store.issued import IssuedDocument, new_token
from tests.conftest import write_config
from tests.fakes import FakeTracker
from tests.test_documents_render import HOSTILE, berita_acara, office
from webhooks import create_app

BASE = "https://sop.sumbawakab.go.id"
PASSPHRASE = "demo-passphrase-1234"


@pytest.fixture
def services(tmp_path: Path, env: None) -> Iterator[Services]:
    built = bootstrap(load_settings(write_config(tmp_path)), tracker=FakeTracker())
    yield built
    built.engine.dispose()


@pytest.fixture
def client(services: Services) -> FlaskClient:
    return create_app(services).test_client()


def issue(services: Services, **changes: str) -> IssuedDocument:
    settings = office()
    return draw_up_for_signing(services.engine, DocumentKind.BERITA_ACARA,
                               berita_acara(settings, **changes), settings, base_url=BASE)


def signed_once(services: Services, doc: IssuedDocument) -> IssuedDocument:
    certs = make_demo_certificates({"pihak_pertama": "Penanda Tangan Satu"}, PASSPHRASE)
    where = doc.slot("pihak_pertama")
    return sign_slot(services.engine, doc.token, "pihak_pertama",
                     signer=PyhankoSigner(certs.p12["pihak_pertama"]),
                     identity=SignerIdentity(where.nama, peran=where.peran),
                     credential=Secret(PASSPHRASE), trust_roots=load_trust_roots(certs.ca_pem))


def upload(client: FlaskClient, token: str, data: bytes, name: str = "dokumen.pdf") -> str:
    answer = client.post(f"/verifikasi/{token}",
                         data={"berkas": (io.BytesIO(data), name)},
                         content_type="multipart/form-data")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_page_shows_the_document_and_who_signed_when(services: Services,
                                                         client: FlaskClient) -> None:
    doc = signed_once(services, issue(services))
    answer = client.get(f"/verifikasi/{doc.token}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    for shown in ("Berita Acara Pekerjaan", doc.nomor, "28 Desember 2026", doc.sha256,
                  doc.signatures[0].sha256, "PIHAK PERTAMA", doc.slot("pihak_pertama").nama,
                  "Menunggu tanda tangan: PIHAK KEDUA, Mengetahui"):
        assert shown in page
    assert re.search(r"PIHAK PERTAMA: [^<]+, \d+ \w+ \d{4} \d\d\.\d\d UTC", page)
    # Nothing else of the case: not its key, its application, or its deliverables.
    for hidden in (doc.case_key, "SI Puskesmas", "git.sumbawakab.go.id"):
        assert hidden not in page
    assert answer.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in answer.headers["Content-Security-Policy"]


def test_the_document_carries_the_short_url_of_its_page(services: Services) -> None:
    doc = issue(services)
    url = verification_url(BASE, doc.token)
    assert url == f"{BASE}/verifikasi/{doc.token}" and len(doc.token) >= 32
    out = subprocess.run(["pdftotext", "-", "-"], input=doc.pdf, capture_output=True,
                         check=True).stdout.decode()
    assert url in out.replace("\n", "")


@pytest.mark.parametrize("token", ["tidak-ada", "SX9CsdNb6QgZRZegOeJqn6yiEEAzRGAc", "x" * 300,
                                   "%00", "a'b"])
def test_an_unknown_token_is_a_plain_404(services: Services, client: FlaskClient,
                                         token: str) -> None:
    issue(services)
    for answer in (client.get(f"/verifikasi/{token}"),
                   client.post(f"/verifikasi/{token}", data={"berkas": (io.BytesIO(b"x"),
                                                                         "a.pdf")},
                               content_type="multipart/form-data")):
        assert answer.status_code == 404
        page = answer.get_data(as_text=True)
        assert "Dokumen tidak ditemukan" in page and "Berita Acara" not in page


def test_an_unknown_token_says_the_same_whether_documents_exist_or_not(
        services: Services, client: FlaskClient) -> None:
    empty = client.get(f"/verifikasi/{new_token()}").get_data(as_text=True)
    issue(services)
    some = client.get(f"/verifikasi/{new_token()}").get_data(as_text=True)
    assert empty == some


def test_every_issued_version_is_recognised_as_ours(services: Services,
                                                    client: FlaskClient) -> None:
    drawn_up = issue(services)
    signed = signed_once(services, drawn_up)
    assert "Cocok." in upload(client, signed.token, signed.pdf)
    assert "dengan 1 tanda tangan" in upload(client, signed.token, signed.pdf)
    assert "sebelum ditandatangani" in upload(client, signed.token, drawn_up.pdf)


def test_a_tampered_pdf_is_reported_as_not_ours(services: Services,
                                                client: FlaskClient) -> None:
    signed = signed_once(services, issue(services))
    where = signed.pdf.index(b"/Producer")
    tampered = signed.pdf[:where] + b"/Producxr" + signed.pdf[where + 9:]
    page = upload(client, signed.token, tampered)
    assert "Tidak cocok." in page and "bukan dokumen yang kami terbitkan" in page
    assert "Cocok." not in page.replace("Tidak cocok.", "")
    # Another of our own documents is not this one either.
    other = issue(services, nomor="000.1.2/998/DKIST/2026")
    assert "Tidak cocok." in upload(client, signed.token, other.pdf)


def test_an_upload_without_a_file_is_refused_in_indonesian(services: Services,
                                                           client: FlaskClient) -> None:
    doc = issue(services)
    answer = client.post(f"/verifikasi/{doc.token}", data={},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and "Pilih berkas PDF" in answer.get_data(as_text=True)
    answer = client.post(f"/verifikasi/{doc.token}", data={"berkas": (io.BytesIO(b""), "a.pdf")},
                         content_type="multipart/form-data")
    assert answer.status_code == 400 and "kosong" in answer.get_data(as_text=True)


def test_an_upload_over_the_body_limit_is_413(services: Services, client: FlaskClient) -> None:
    doc = issue(services)
    limit = services.settings.server.max_body_bytes
    # A raw body (the test client would spool an encoded form to a temporary file).
    answer = client.post(f"/verifikasi/{doc.token}", data=b"%" * (limit + 1),
                         content_type="multipart/form-data; boundary=x")
    assert answer.status_code == 413


def test_hostile_names_print_literally(services: Services, client: FlaskClient) -> None:
    from connector.documents.model import Representative

    settings = office()
    hostile = berita_acara(settings).pihak_kedua
    doc = draw_up_for_signing(
        services.engine, DocumentKind.BERITA_ACARA,
        berita_acara(settings, pihak_kedua=Representative(HOSTILE, hostile.jabatan,
                                                          HOSTILE)),
        settings, base_url=BASE)
    page = client.get(f"/verifikasi/{doc.token}").get_data(as_text=True)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "{{ 7*7 }}" in page


def test_the_qr_path_draws_exactly_the_modules_of_the_code() -> None:
    import segno

    from connector.documents.qr import QUIET_ZONE, verification_mark

    url = f"{BASE}/verifikasi/SX9CsdNb6QgZRZegOeJqn6yiEEAzRGAc"
    mark = verification_mark(url)
    matrix = [list(row) for row in segno.make(url, error="m", micro=False).matrix]
    drawn = [[0] * len(matrix) for _ in matrix]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", mark.qr_path):
        for dx in range(int(width)):
            drawn[int(y) - QUIET_ZONE][int(x) - QUIET_ZONE + dx] = 1
    assert drawn == [[int(bool(m)) for m in row] for row in matrix]
    assert mark.qr_size == len(matrix) + 2 * QUIET_ZONE and re.fullmatch(r"[Mhvz0-9 -]+",
                                                                         mark.qr_path)

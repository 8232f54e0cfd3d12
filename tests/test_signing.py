"""Electronic signatures on the documents (issue 17): signers in turn, verification before a
signed file is kept, and BSrE's error answers (against tests/bsre_standin.py)."""

from __future__ import annotations

import io
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlalchemy import Engine

from connector.config.secret import Secret
from connector.documents.issue import draw_up_for_signing
from connector.documents.model import DocumentKind
from connector.signing.bsre import NOT_REGISTERED, SERVER_ERROR, WRONG_CREDENTIAL, BsreSigner
from connector.signing.democert import DemoCertificates, make_demo_certificates
from connector.signing.flow import sign_slot
from connector.signing.local import PyhankoSigner
from connector.signing.port import SignerIdentity, SigningError
from connector.signing.verify import load_trust_roots, verify_signed
from connector.store import create_all, make_engine
from connector.store.issued import IssuedDocument, get_issued, sha256_hex
from tests.bsre_standin import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    P12_PASSPHRASE,
    BsreStandIn,
    StandInUser,
)
from tests.test_documents_render import berita_acara, office, surat

PASSPHRASE = "demo-passphrase-1234"
BA_SLOTS = ("pihak_pertama", "pihak_kedua", "mengetahui")
NIK = {"pihak_pertama": "5204010101800001", "pihak_kedua": "5204010101800002",
       "mengetahui": "5204010101800003"}
BSRE_PASSPHRASE = {slot: f"bsre-pass-{slot}-42" for slot in BA_SLOTS}


@pytest.fixture(scope="module")
def certs() -> DemoCertificates:
    return make_demo_certificates({slot: f"Penanda Tangan {slot}" for slot in BA_SLOTS},
                                  PASSPHRASE)


@pytest.fixture(scope="module")
def bsre_certs() -> DemoCertificates:
    return make_demo_certificates(NIK, P12_PASSPHRASE, organisation="BSrE uji")


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    create_all(engine)
    return engine


def issue_ba(engine: Engine) -> IssuedDocument:
    settings = office()
    return draw_up_for_signing(engine, DocumentKind.BERITA_ACARA, berita_acara(settings),
                               settings, base_url="https://sop.sumbawakab.go.id")


def sign_local(engine: Engine, doc: IssuedDocument, slot: str, certs: DemoCertificates,
               passphrase: str = PASSPHRASE) -> IssuedDocument:
    where = doc.slot(slot)
    return sign_slot(engine, doc.token, slot, signer=PyhankoSigner(certs.p12[slot]),
                     identity=SignerIdentity(where.nama, peran=where.peran),
                     credential=Secret(passphrase), trust_roots=load_trust_roots(certs.ca_pem))


def pyhanko_statuses(pdf: bytes, ca_pem: bytes) -> list[Any]:
    """Every signature of ``pdf`` validated by pyHanko here in the test, independently."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(trust_roots=load_trust_roots(ca_pem), allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(pdf))
    return [validate_pdf_signature(sig, context) for sig in reader.embedded_signatures]


def pdfsig(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfsig", str(path)], capture_output=True, text=True,
                          check=True).stdout


def test_three_signers_in_turn_each_signature_valid(engine: Engine, certs: DemoCertificates,
                                                    tmp_path: Path) -> None:
    doc = issue_ba(engine)
    assert [s.slot for s in doc.slots] == list(BA_SLOTS)
    for count, slot in enumerate(BA_SLOTS, 1):
        doc = sign_local(engine, doc, slot, certs)
        statuses = pyhanko_statuses(doc.pdf, certs.ca_pem)
        assert len(statuses) == count  # earlier signatures are still there, and still valid
        assert all(s.intact and s.valid and s.trusted and s.bottom_line for s in statuses)
    assert [s.slot for s in doc.signatures] == list(BA_SLOTS) and not doc.unsigned_slots
    assert [s.signing_cert.subject.native["common_name"] for s in statuses] == [
        f"Penanda Tangan {slot}" for slot in BA_SLOTS]
    assert doc.pdf.startswith(get_issued(engine, doc.token).pdf[:doc.size])  # type: ignore[union-attr]
    listed = pdfsig(doc.pdf, tmp_path)
    assert listed.count("Signature Validation: Signature is Valid.") == 3
    for slot in BA_SLOTS:
        assert f"Signature Field Name: TTD-{slot}" in listed
    assert "Total document signed" in listed


def test_a_letter_with_one_signature(engine: Engine, certs: DemoCertificates,
                                     tmp_path: Path) -> None:
    settings = office()
    doc = draw_up_for_signing(engine, DocumentKind.SURAT, surat(settings), settings,
                              base_url="https://sop.sumbawakab.go.id")
    assert [s.slot for s in doc.slots] == ["penandatangan"]
    where = doc.slot("penandatangan")
    doc = sign_slot(engine, doc.token, "penandatangan",
                    signer=PyhankoSigner(certs.p12["mengetahui"]),
                    identity=SignerIdentity(where.nama, peran=where.peran),
                    credential=Secret(PASSPHRASE), trust_roots=load_trust_roots(certs.ca_pem))
    [status] = pyhanko_statuses(doc.pdf, certs.ca_pem)
    assert status.bottom_line
    assert pdfsig(doc.pdf, tmp_path).count("Signature is Valid.") == 1


def test_a_byte_changed_after_signing_is_refused(engine: Engine,
                                                 certs: DemoCertificates) -> None:
    doc = sign_local(engine, issue_ba(engine), "pihak_pertama", certs)
    # Change one character of the visible text, inside the signed range.
    where = doc.pdf.index(b"/Producer")
    tampered = doc.pdf[:where] + b"/Producxr" + doc.pdf[where + 9:]
    with pytest.raises(SigningError, match="diubah"):
        verify_signed(tampered, issued_sha256=doc.sha256, issued_size=doc.size,
                      trust_roots=load_trust_roots(certs.ca_pem))


def test_content_added_after_the_signatures_is_refused(engine: Engine,
                                                       certs: DemoCertificates) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    doc = sign_local(engine, issue_ba(engine), "pihak_pertama", certs)
    writer = IncrementalPdfFileWriter(io.BytesIO(doc.pdf))
    page = writer.root["/Pages"]["/Kids"][0].get_object()
    stream = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 100 100 Td "
                                                                b"(LUNAS) Tj ET"))
    page["/Contents"] = generic.ArrayObject([page.raw_get("/Contents"), stream])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(SigningError, match="diubah setelah tanda tangan"):
        verify_signed(out.getvalue(), issued_sha256=doc.sha256, issued_size=doc.size,
                      trust_roots=load_trust_roots(certs.ca_pem))


def test_a_document_drawn_up_elsewhere_is_refused_though_validly_signed(
        engine: Engine, certs: DemoCertificates) -> None:
    ours = issue_ba(engine)
    settings = office()
    other = draw_up_for_signing(engine, DocumentKind.BERITA_ACARA,
                                berita_acara(settings, nomor="000.1.2/999/DKIST/2026"),
                                settings, base_url="https://sop.sumbawakab.go.id")
    signed_other = sign_local(engine, other, "pihak_pertama", certs)
    with pytest.raises(SigningError, match="bukan dokumen yang diterbitkan"):
        verify_signed(signed_other.pdf, issued_sha256=ours.sha256, issued_size=ours.size,
                      trust_roots=load_trust_roots(certs.ca_pem))


def test_a_certificate_from_another_ca_is_refused_and_nothing_kept(
        engine: Engine, certs: DemoCertificates) -> None:
    stranger = make_demo_certificates({"pihak_pertama": "Orang Lain"}, PASSPHRASE)
    doc = issue_ba(engine)
    where = doc.slot("pihak_pertama")
    with pytest.raises(SigningError, match="tidak dipercaya"):
        sign_slot(engine, doc.token, "pihak_pertama",
                  signer=PyhankoSigner(stranger.p12["pihak_pertama"]),
                  identity=SignerIdentity(where.nama), credential=Secret(PASSPHRASE),
                  trust_roots=load_trust_roots(certs.ca_pem))
    kept = get_issued(engine, doc.token)
    assert kept is not None and kept.pdf == doc.pdf and not kept.signatures


def test_wrong_certificate_passphrase_signs_nothing(engine: Engine,
                                                    certs: DemoCertificates) -> None:
    doc = issue_ba(engine)
    with pytest.raises(SigningError, match="Passphrase sertifikat salah"):
        sign_local(engine, doc, "pihak_pertama", certs, passphrase="salah-sekali-123")
    kept = get_issued(engine, doc.token)
    assert kept is not None and kept.pdf == doc.pdf and not kept.signatures


def test_a_slot_is_signed_once(engine: Engine, certs: DemoCertificates) -> None:
    doc = sign_local(engine, issue_ba(engine), "pihak_pertama", certs)
    with pytest.raises(SigningError, match="sudah ditandatangani"):
        sign_local(engine, doc, "pihak_pertama", certs)
    with pytest.raises(SigningError, match="tidak punya blok"):
        sign_slot(engine, doc.token, "bupati", signer=PyhankoSigner(certs.p12["mengetahui"]),
                  identity=SignerIdentity("Bupati"), credential=Secret(PASSPHRASE),
                  trust_roots=load_trust_roots(certs.ca_pem))
    with pytest.raises(SigningError, match="tidak ditemukan"):
        sign_slot(engine, "tidak-ada", "mengetahui", signer=PyhankoSigner(b""),
                  identity=SignerIdentity("X"), credential=Secret(PASSPHRASE),
                  trust_roots=load_trust_roots(certs.ca_pem))


# --- BSrE -----------------------------------------------------------------------------------

@pytest.fixture()
def bsre(bsre_certs: DemoCertificates) -> Iterator[BsreStandIn]:
    stand_in = BsreStandIn({nik: StandInUser(nik, BSRE_PASSPHRASE[slot], bsre_certs.p12[slot])
                            for slot, nik in NIK.items()})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        stand_in.install(mock)
        yield stand_in


def bsre_signer() -> BsreSigner:
    return BsreSigner(BASE, CLIENT_ID, Secret(CLIENT_SECRET))


def sign_bsre(engine: Engine, doc: IssuedDocument, slot: str, roots: bytes,
              passphrase: str, nik: str | None = None) -> IssuedDocument:
    where = doc.slot(slot)
    return sign_slot(engine, doc.token, slot, signer=bsre_signer(),
                     identity=SignerIdentity(where.nama, peran=where.peran,
                                             nik=nik or NIK[slot]),
                     credential=Secret(passphrase), trust_roots=load_trust_roots(roots))


def test_bsre_signs_each_block_in_turn(engine: Engine, bsre: BsreStandIn,
                                       bsre_certs: DemoCertificates, tmp_path: Path) -> None:
    doc = issue_ba(engine)
    for slot in BA_SLOTS:
        doc = sign_bsre(engine, doc, slot, bsre_certs.ca_pem, BSRE_PASSPHRASE[slot])
    statuses = pyhanko_statuses(doc.pdf, bsre_certs.ca_pem)
    assert len(statuses) == 3 and all(s.bottom_line for s in statuses)
    assert pdfsig(doc.pdf, tmp_path).count("Signature is Valid.") == 3
    first = bsre.requests_seen[0]
    assert first["nik"] == NIK["pihak_pertama"] and first["passphrase"]
    props = first["signatureProperties"][0]
    box = doc.slot("pihak_pertama").box
    assert (props["tampilan"], props["page"], props["originX"], props["originY"]) == (
        "VISIBLE", doc.slot("pihak_pertama").page + 1, box[0], box[1])


@pytest.mark.parametrize(("case", "told"), [
    ("wrong passphrase", WRONG_CREDENTIAL),
    ("echoed passphrase", WRONG_CREDENTIAL),
    ("not registered", NOT_REGISTERED),
    ("server error", SERVER_ERROR),
])
def test_bsre_refusals_keep_nothing_and_never_show_the_secret(
        engine: Engine, bsre: BsreStandIn, bsre_certs: DemoCertificates, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, case: str, told: str) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level
    secret = "rahasia-TTE-yang-tidak-boleh-bocor-9"
    doc = issue_ba(engine)
    bsre.server_error = case == "server error"
    bsre.echo_credential = case == "echoed passphrase"
    nik = "5204999999999999" if case == "not registered" else None
    with pytest.raises(SigningError) as raised:
        sign_bsre(engine, doc, "pihak_pertama", bsre_certs.ca_pem, secret, nik=nik)
    assert str(raised.value) == told
    kept = get_issued(engine, doc.token)
    assert kept is not None and kept.pdf == doc.pdf and not kept.signatures
    assert sha256_hex(kept.pdf) == doc.sha256
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert caplog.records  # the refusal itself was logged, without the secret
    assert secret not in logged and secret not in repr(raised.value)
    assert secret.encode() not in (tmp_path / "store.db").read_bytes()
    if case != "server error":
        assert bsre.requests_seen[-1]["passphrase"] == secret  # it was sent, once, to BSrE


def test_bsre_user_status_and_totp(bsre: BsreStandIn) -> None:
    signer = bsre_signer()
    assert signer.user_status(SignerIdentity("A", nik=NIK["mengetahui"])) == "ISSUE"
    signer.request_totp(SignerIdentity("A", nik=NIK["mengetahui"]))
    with pytest.raises(SigningError, match="belum terdaftar"):
        signer.user_status(SignerIdentity("B", nik="1"))
    with pytest.raises(SigningError, match="NIK atau e-mail"):
        signer.request_totp(SignerIdentity("C"))


def test_a_name_outside_ascii_signs_and_its_stamp_is_folded(engine: Engine,
                                                            tmp_path: Path) -> None:
    from connector.signing.stamp import ascii_text

    assert ascii_text("Dr. Ñoño Ādi, S.Kom. 王 <b>") == "Dr. Nono Adi, S.Kom. ? <b>"
    name = "Dr. Ñoño Ādi, S.Kom."
    certs = make_demo_certificates({"pihak_pertama": name}, PASSPHRASE)
    doc = issue_ba(engine)
    doc = sign_slot(engine, doc.token, "pihak_pertama",
                    signer=PyhankoSigner(certs.p12["pihak_pertama"]),
                    identity=SignerIdentity(name, peran="PIHAK PERTAMA"),
                    credential=Secret(PASSPHRASE), trust_roots=load_trust_roots(certs.ca_pem))
    [status] = pyhanko_statuses(doc.pdf, certs.ca_pem)
    assert status.bottom_line and status.signing_cert.subject.native["common_name"] == name
    assert f"Common Name: {name}" in pdfsig(doc.pdf, tmp_path)


def test_the_last_signature_enqueues_the_signed_document_job_once(
        engine: Engine, certs: DemoCertificates) -> None:
    """Issue 17 in the case flow: the job that attaches the signed document is written in the
    transaction that keeps the last signature, so a crash after signing cannot lose it."""
    from connector.store.jobs import list_jobs
    from connector.store.kinds import SIGNED_DOCUMENT

    doc = issue_ba(engine)
    for slot in BA_SLOTS[:-1]:
        doc = sign_local(engine, doc, slot, certs)
        assert [j for j in list_jobs(engine) if j.kind == SIGNED_DOCUMENT] == []
    doc = sign_local(engine, doc, BA_SLOTS[-1], certs)
    [job] = [j for j in list_jobs(engine) if j.kind == SIGNED_DOCUMENT]
    assert job.payload == {"token": doc.token}

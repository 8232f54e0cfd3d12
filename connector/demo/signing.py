"""The demo signs its own documents (issue 17): a local CA and one certificate per signature
block, made for the demo (as ``sop-connector sign demo-cert`` makes them), and each block of
the case's documents signed in turn; the service then attaches the signed PDF.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import Engine

from connector.config.secret import Secret
from connector.demo.progress import Progress
from connector.documents.issue import verification_url
from connector.errors import ConnectorError
from connector.signing.democert import make_demo_certificates
from connector.signing.flow import sign_slot
from connector.signing.local import PyhankoSigner
from connector.signing.port import SignerIdentity
from connector.signing.verify import load_trust_roots
from connector.store.issued import IssuedDocument, awaiting_signature
from connector.store.jobs import list_jobs
from connector.store.kinds import SIGNED_DOCUMENT

SIGNERS = {"pihak_pertama": "Kepala Seksi Aplikasi (demo)", "pihak_kedua": "OPD (demo)",
           "mengetahui": "Kepala Dinas (demo)", "penandatangan": "Kepala Dinas (demo)"}


def write_certificates(folder: Path, passphrase: str) -> str:
    """The demo's CA and certificates in ``folder``; the ``[signing]`` section naming them."""
    made = make_demo_certificates(SIGNERS, passphrase)
    folder.mkdir(mode=0o700, exist_ok=True)
    (folder / "ca.pem").write_bytes(made.ca_pem)
    for slot, p12 in made.p12.items():
        path = folder / f"{slot}.p12"
        path.write_bytes(p12)
        path.chmod(0o600)
    return f'\n[signing]\ntrust_roots = "{folder / "ca.pem"}"\n'


def sign_case(engine: Engine, case_key: str, folder: Path, passphrase: str, base_url: str,
              progress: Progress, *, seconds: float = 120) -> list[str]:
    """Sign every block of the case's documents; wait for the service to attach each signed
    PDF; return each document's verification URL."""
    roots = load_trust_roots((folder / "ca.pem").read_bytes())
    urls = []
    for document in [d for d in awaiting_signature(engine) if d.case_key == case_key]:
        for slot in document.unsigned_slots:
            sign_slot(engine, document.token, slot.slot,
                      signer=PyhankoSigner((folder / f"{slot.slot}.p12").read_bytes()),
                      identity=SignerIdentity(slot.nama, peran=slot.peran),
                      credential=Secret(passphrase, source="demo"), trust_roots=roots)
            progress.service(f"{document.kind} {document.nomor} ditandatangani: {slot.peran} "
                             f"({slot.nama})")
        _wait_attached(engine, document, seconds)
        url = verification_url(base_url, document.token)
        progress.service(f"dokumen bertanda tangan dilampirkan; verifikasi: {url}")
        urls.append(url)
    return urls


def _wait_attached(engine: Engine, document: IssuedDocument, seconds: float) -> None:
    """Until the service's worker has done the document's ``signed_document`` job."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        done = [j for j in list_jobs(engine, ["done"], limit=1_000_000)
                if j.kind == SIGNED_DOCUMENT and j.payload.get("token") == document.token]
        if done:
            return
        time.sleep(1)
    raise ConnectorError(f"dokumen bertanda tangan {document.nomor} belum dilampirkan "
                         f"setelah {seconds:.0f} detik")

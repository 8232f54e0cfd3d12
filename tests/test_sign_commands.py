"""``sop-connector sign ...``: a demo certificate, documents issued for signing, signatures
added one by one from the command line, and a signed PDF verified (issue 17)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from connector.bootstrap import bootstrap
from connector.cli import main
from connector.cli.sign_commands import issue_for_signing
from connector.config import load_settings
from connector.services import Services
from connector.store import cases
from connector.store.issued import IssuedDocument, find_issued, get_issued
from tests.conftest import write_config
from tests.fakes import FakeTracker
from tests.test_document_commands import store_case
from tests.test_redmine_documents import documents_section

PASSPHRASE = "cli-demo-passphrase-77"


@pytest.fixture
def certs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOP_TEST_P12", PASSPHRASE)
    out = tmp_path / "tte"
    result = CliRunner().invoke(main, ["sign", "demo-cert", "--output", str(out),
                                       "--passphrase-env", "SOP_TEST_P12"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def config(tmp_path: Path, env: None, certs: Path) -> Path:
    signing = '\n[signing]\ntrust_roots = "tte/ca.pem"\n'
    return write_config(tmp_path, extra=documents_section() + signing)


@pytest.fixture
def services(config: Path) -> Iterator[Services]:
    built = bootstrap(load_settings(config), tracker=FakeTracker())
    yield built
    built.engine.dispose()


def test_demo_cert_writes_a_ca_and_private_pkcs12_files(certs: Path) -> None:
    assert (certs / "ca.pem").read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    for slot in ("pihak_pertama", "pihak_kedua", "mengetahui", "penandatangan"):
        assert (certs / f"{slot}.p12").stat().st_mode & 0o077 == 0
    assert not (certs / "passphrase.txt").exists()  # it came from the environment


def test_a_refused_case_is_issued_signed_and_verified_from_the_command_line(
        services: Services, config: Path, certs: Path, tmp_path: Path) -> None:
    case = store_case(services, cases.CaseStatus.REJECTED, 7)
    lines = issue_for_signing(services, case, tmp_path / "out")
    assert any("/verifikasi/" in line for line in lines)
    assert any("menunggu tanda tangan: penandatangan" in line for line in lines)
    letter = _letter(services)
    assert find_issued(services.engine, "surat", letter.nomor) == letter
    # Issuing again is idempotent: the same token, nothing drawn up twice.
    again = issue_for_signing(services, case, tmp_path / "out")
    assert f"token {letter.token}" in "\n".join(again)

    signed = tmp_path / "surat-signed.pdf"
    result = CliRunner().invoke(main, ["--config", str(config), "sign", "add", letter.token,
                                       "penandatangan", "--p12",
                                       str(certs / "penandatangan.p12"),
                                       "--passphrase-env", "SOP_TEST_P12",
                                       "--output", str(signed)])
    assert result.exit_code == 0, result.output
    assert "ditandatangani: Penandatangan (1 dari 1)" in result.output
    assert PASSPHRASE not in result.output
    kept = get_issued(services.engine, letter.token)
    assert kept is not None and kept.pdf == signed.read_bytes()
    listed = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in listed

    result = CliRunner().invoke(main, ["--config", str(config), "sign", "verify", str(signed),
                                       "--token", letter.token])
    assert result.exit_code == 0, result.output
    assert "sah: TTD-penandatangan" in result.output

    tampered = tmp_path / "tampered.pdf"
    data = signed.read_bytes()
    where = data.index(b"/Producer")
    tampered.write_bytes(data[:where] + b"/Producxr" + data[where + 9:])
    result = CliRunner().invoke(main, ["--config", str(config), "sign", "verify",
                                       str(tampered), "--token", letter.token])
    assert result.exit_code != 0 and "diubah" in result.output


def test_a_wrong_passphrase_at_the_prompt_signs_nothing(
        services: Services, config: Path, certs: Path, tmp_path: Path) -> None:
    case = store_case(services, cases.CaseStatus.REJECTED, 7)
    issue_for_signing(services, case, tmp_path / "out")
    letter = _letter(services)
    result = CliRunner().invoke(main, ["--config", str(config), "sign", "add", letter.token,
                                       "penandatangan", "--p12",
                                       str(certs / "penandatangan.p12")],
                                input="salah-sama-sekali\n")
    assert result.exit_code != 0
    assert "Passphrase sertifikat salah" in result.output
    assert "salah-sama-sekali" not in result.output
    kept = get_issued(services.engine, letter.token)
    assert kept is not None and not kept.signatures and kept.pdf == letter.pdf


def _letter(services: Services) -> IssuedDocument:
    from sqlalchemy import select

    from connector.store.schema import issued_documents

    with services.engine.connect() as conn:
        token = conn.execute(select(issued_documents.c.token).where(
            issued_documents.c.kind == "surat")).scalar_one()
    found = get_issued(services.engine, token)
    assert found is not None
    return found



def test_signing_configuration_problems_are_each_named(tmp_path: Path, env: None) -> None:
    from connector.errors import ConfigError

    bsre = '\n[signing]\ntrust_roots = "tidak-ada.pem"\nprovider = "bsre"\nbsre_url = "ftp://x"\n'
    with pytest.raises(ConfigError) as raised:
        load_settings(write_config(tmp_path, extra=bsre))
    problems = "\n".join(raised.value.problems)
    for named in ("[signing] trust_roots: no such file", "[signing] bsre_url: expected an "
                  "http:// or https://", "[signing] bsre_client_id: missing",
                  "[signing] bsre_client_secret_env: missing"):
        assert named in problems
    inline = '\n[signing]\ntrust_roots = "x.pem"\nbsre_client_secret = "rahasia-inline"\n'
    (tmp_path / "x.pem").write_text("pem")
    with pytest.raises(ConfigError) as raised:
        load_settings(write_config(tmp_path, extra=inline))
    assert "secrets are never written in the file" in "\n".join(raised.value.problems)
    assert "rahasia-inline" not in "\n".join(raised.value.problems)

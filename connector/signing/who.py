"""Who signs which block, and with what: the Redmine logins of each block's role, and the
signer ``[signing]`` configures for a login (a PKCS#12 file, or BSrE with their NIK).

The blocks follow the documents: the Berita Acara's PIHAK PERTAMA is the Kepala Seksi
Aplikasi, its PIHAK KEDUA the requesting OPD (its technical team or the OPD's own account),
and "Mengetahui" the Kepala Dinas; the laporan's pelapor is the Kepala Bidang TI; the letter
is signed by the Kepala Dinas. Role overrides do not apply: a signature is the person's own.
"""

from __future__ import annotations

from connector.config.settings import Settings, SigningSettings
from connector.signing.bsre import BsreSigner
from connector.signing.local import PyhankoSigner
from connector.signing.port import Signer, SigningError
from connector.sop.model import Role

SLOT_ROLES: dict[str, tuple[Role, ...]] = {
    "pihak_pertama": (Role.KEPALA_SEKSI_APLIKASI,),
    "pihak_kedua": (Role.TIM_TEKNIS_OPD, Role.OPD_PEMOHON),
    "mengetahui": (Role.KEPALA_DINAS,),
    "pelapor": (Role.KEPALA_BIDANG_TI,),
    "penandatangan": (Role.KEPALA_DINAS,),
}


def opd_of(case_key: str) -> str:
    """The OPD code a case key starts with (``DINKES:027/...``)."""
    return case_key.split(":", 1)[0]


def may_sign(settings: Settings, login: str, slot: str, case_key: str) -> bool:
    """True when ``login`` holds the role of block ``slot`` (for the case's OPD)."""
    opd = opd_of(case_key)
    return any(login in settings.logins_for(role, opd) for role in SLOT_ROLES.get(slot, ()))


def signer_for(signing: SigningSettings, login: str) -> tuple[Signer, str | None]:
    """The signer of ``login`` and their BSrE NIK (None for a local certificate);
    SigningError (Indonesian) when the configuration has none for them."""
    if signing.provider == "bsre":
        nik = signing.nik.get(login)
        if nik is None or signing.bsre_client_secret is None:
            raise SigningError(f"NIK BSrE untuk {login} belum ada di konfigurasi "
                               f"([signing.nik]); hubungi admin.")
        return BsreSigner(signing.bsre_url, signing.bsre_client_id,
                          signing.bsre_client_secret, totp=signing.bsre_totp,
                          timeout=signing.bsre_timeout_seconds), nik
    p12 = signing.p12.get(login)
    if p12 is None:
        raise SigningError(f"Sertifikat (PKCS#12) untuk {login} belum ada di konfigurasi "
                           f"([signing.p12]); hubungi admin.")
    try:
        return PyhankoSigner(p12.read_bytes()), None
    except OSError as exc:
        raise SigningError(f"Berkas sertifikat {login} tidak dapat dibaca "
                           f"({exc.strerror}).") from None

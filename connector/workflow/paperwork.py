"""Draw up a case's closing documents and attach them to its parent issue, exactly once.

The number is issued once per case and kind (a retry gets the same one), the file name is
derived from the case (a retry finds the attachment by name and neither renders nor
uploads it again), so a worker killed while rendering simply renders again.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from connector.codehost.seeds import DOCUMENTS
from connector.config.documents import DocumentSettings
from connector.documents import model as doc
from connector.documents.numbering import issue_number
from connector.documents.verification import kekurangan_from_findings, standard_next_steps
from connector.errors import ConnectorError, RemoteRejected
from connector.faults import fault_point
from connector.mail import queue as mail
from connector.mail.queue import queue_for_case
from connector.services import Services
from connector.sop.model import DocumentKind
from connector.store import audit, cases
from connector.store.projects import CaseProject, project_of_case
from connector.workflow.automation import project_for
from connector.workflow.engine import CaseView
from connector.workflow.record_reader import CaseFacts, case_facts

KIND = {DocumentKind.BERITA_ACARA: doc.DocumentKind.BERITA_ACARA,
        DocumentKind.LAPORAN_KETIDAKTERSEDIAAN: doc.DocumentKind.LAPORAN,
        DocumentKind.SURAT_OPD: doc.DocumentKind.SURAT}
MAILED = {DocumentKind.SURAT_OPD: mail.SURAT, DocumentKind.BERITA_ACARA: mail.BERITA_ACARA}
# With [signing], these are issued for electronic signing; the signed PDF completes the step.
SIGNED = (DocumentKind.BERITA_ACARA, DocumentKind.SURAT_OPD)
log = logging.getLogger(__name__)
FORMATS = (("pdf", "application/pdf"),
           ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))


def draw_up(services: Services, case: cases.Case, view: CaseView,
            kinds: tuple[DocumentKind, ...], on: date) -> list[str]:
    """Render ``kinds`` for the case and attach each (PDF and DOCX); return the file names."""
    from connector.documents.render import document_filename, render_docx, render_pdf

    settings = services.settings.documents
    assert settings is not None and case.redmine_issue_id is not None
    documents = build(services, settings, case, view, kinds, on, preview=False)
    renderers = {"pdf": render_pdf, "docx": render_docx}
    names = []
    for kind, document in documents:
        attached = services.tracker.attachment_names(case.redmine_issue_id)
        for_signing = services.settings.signing is not None and kind in SIGNED
        for ext, content_type in FORMATS:
            name = document_filename(KIND[kind], document, ext)
            if name not in attached:  # a redone job renders only what is still missing
                notes = f"{name} dilampirkan."
                if ext == "pdf" and for_signing:  # the issued PDF, with its QR code
                    content, notes = _issue_for_signing(services, settings, kind, document,
                                                        name)
                else:
                    content = renderers[ext](KIND[kind], document, settings)
                fault_point("documents.after_render")
                # The names were read above and this case's lock is held: no second read.
                services.tracker.attach_document(case.redmine_issue_id, name, content_type,
                                                 content, notes=notes, attached=attached)
                attached |= {name}
                fault_point("documents.after_attached")
            names.append(name)
            if ext == "pdf" and kind in MAILED and not for_signing:  # signed: mailed when signed
                _queue_mail(services, case, MAILED[kind], name)
    if DocumentKind.BERITA_ACARA in kinds:
        _link_from_wiki(services, case)
        fault_point("documents.after_wiki_link")
    return names


def _issue_for_signing(services: Services, settings: DocumentSettings, kind: DocumentKind,
                       document: doc.Document, name: str) -> tuple[bytes, str]:
    """Issue ``document`` for signing (idempotent); its PDF and the note saying who signs."""
    from connector.documents.issue import draw_up_for_signing

    base = services.settings.server.public_url
    issued = draw_up_for_signing(services.engine, KIND[kind], document, settings, base_url=base)
    return issued.pdf, signing_note(base, issued.token, name,
                                    [f"{s.peran} ({s.nama})" for s in issued.unsigned_slots])


def awaiting_signature_notes(services: Services, case: cases.Case) -> list[str]:
    """The signing note of each of the case's documents still awaiting a signature."""
    from connector.documents.render import FILENAME_PREFIX, slug
    from connector.store.issued import awaiting_signature

    base = services.settings.server.public_url
    return [signing_note(base, d.token,
                         f"{FILENAME_PREFIX[doc.DocumentKind(d.kind)]}-{slug(d.case_key)}.pdf",
                         [f"{s.peran} ({s.nama})" for s in d.unsigned_slots])
            for d in awaiting_signature(services.engine) if d.case_key == case.case_key]


def signing_note(base: str, token: str, name: str, waiting: list[str]) -> str:
    """The case note of a document issued for signing: whose signature it awaits, and where."""
    from connector.documents.issue import verification_url

    return (f"{name} dilampirkan dan menunggu tanda tangan elektronik: "
            f"{'; '.join(waiting)}. Halaman penandatanganan: "
            f"{base.rstrip('/')}/dashboard/tandatangan/{token} . Verifikasi: "
            f"{verification_url(base, token)} . Setelah semua tanda tangan lengkap, dokumen "
            f"bertanda tangan dilampirkan pada subtugas langkah ini.")


def _queue_mail(services: Services, case: cases.Case, kind: str, name: str) -> None:
    """Queue the attached PDF to the OPD (idempotent: a redone job queues nothing new)."""
    if services.settings.email is None:
        return
    with services.engine.begin() as conn:
        queue_for_case(conn, services.settings, case, kind, name, clock=services.clock)


def _link_from_wiki(services: Services, case: cases.Case) -> None:
    """Link the case (and its Berita Acara) from the GitLab wiki's Beranda page.

    A refusal from GitLab (a wiki switched off, say) is logged: the case still closes.
    """
    project = project_for(services, case.id)
    if services.codehost is None or project is None:
        return
    try:
        services.codehost.link_on_home(
            project, f"Berita Acara Pekerjaan (Redmine #{case.redmine_issue_id})",
            f"{services.settings.redmine.url}/issues/{case.redmine_issue_id}")
    except RemoteRejected as exc:
        log.warning("case %s: the wiki link was refused: %s", case.id, exc)


def build(services: Services, settings: DocumentSettings, case: cases.Case, view: CaseView,
          kinds: tuple[DocumentKind, ...], on: date, *,
          preview: bool) -> list[tuple[DocumentKind, doc.BeritaAcara | doc.LaporanKetidaktersediaan
                                       | doc.SuratKepadaOpd]]:
    """The documents' data; ``preview`` shows a number only if one was already issued."""
    with services.engine.connect() as conn:
        facts = case_facts(audit.list_audit(conn, case.id))
    built: list[tuple[DocumentKind, doc.BeritaAcara | doc.LaporanKetidaktersediaan
                      | doc.SuratKepadaOpd]] = []
    laporan_nomor = None
    for kind in kinds:
        nomor = _number(services, settings, case, kind, on, preview)
        if kind is DocumentKind.BERITA_ACARA:
            built.append((kind, _berita_acara(services, settings, case, view, facts, nomor, on)))
        elif kind is DocumentKind.LAPORAN_KETIDAKTERSEDIAAN:
            laporan_nomor = nomor
            built.append((kind, doc.LaporanKetidaktersediaan(
                nomor=nomor, tanggal=on, tempat=settings.tempat, case_key=case.case_key,
                sop_nomor=services.sop.nomor, tanggal_verifikasi=_verified_on(facts, on),
                temuan=_unavailability(services, case, facts),
                pelapor=settings.kepala_bidang_ti, mengetahui=settings.kepala_dinas,
                sop=sop_reference(services))))
        else:
            built.append((kind, doc.SuratKepadaOpd(
                nomor=nomor, tanggal=on, tempat=settings.tempat, case_key=case.case_key,
                temuan=_unavailability(services, case, facts),
                penandatangan=settings.kepala_dinas, tembusan=settings.tembusan,
                nomor_laporan=laporan_nomor, sop=sop_reference(services))))
    return built


def _number(services: Services, settings: DocumentSettings, case: cases.Case,
            kind: DocumentKind, on: date, preview: bool) -> str:
    pattern = settings.nomor.for_kind(KIND[kind].value)
    if preview:
        from connector.documents.numbering import existing_number

        with services.engine.connect() as conn:
            return existing_number(conn, KIND[kind].value, case.id) or "(pratinjau)"
    return issue_number(services.engine, KIND[kind].value, on.year, case.id, pattern,
                        month=on.month)


def _berita_acara(services: Services, settings: DocumentSettings, case: cases.Case,
                  view: CaseView, facts: CaseFacts, nomor: str, on: date) -> doc.BeritaAcara:
    project = project_of_case(services.engine, case.id)
    repo = _web_link(project.web_url) if project else None
    links: dict[str, str | None] = {"Aplikasi": repo}
    # GitLab links each file; other hosts' web viewers differ, so they link the repository.
    on_gitlab = services.settings.gitlab is not None
    links |= {d.name: f"{repo}/-/blob/main/{d.path}" if repo and on_gitlab else repo
              for d in DOCUMENTS}
    if repo and on_gitlab:
        links |= _where_found(services, case)
    development = services.sop.development_step
    starts = facts.activations.get(development, []) if development is not None else []
    ends = facts.completed(development) if development is not None else []
    period = doc.DevelopmentPeriod(mulai=starts[0] if starts else on,
                                   selesai=ends[-1] if ends else on,
                                   hari_kerja=view.spent.get(development, 0)
                                   if development is not None else 0)
    kontak = case.letter.get("kontak") or {}
    return doc.BeritaAcara(
        nomor=nomor, tanggal=on, tempat=settings.tempat, case_key=case.case_key,
        nama_aplikasi=case.nama_aplikasi, deskripsi=str(case.letter.get("deskripsi") or "-"),
        opd=_opd(services, case), surat=_letter(case, on), repository_url=repo,
        wiki_url=_web_link(project.wiki_url) if project else None,
        deliverables=doc.deliverables_from_links(links, _deliverable_places(project)),
        pengembangan=period,
        persetujuan_rencana=tuple(facts.completed(11, "ya")) or (on,),
        persetujuan_hasil=tuple(facts.completed(14, "ya")) or (on,),
        jumlah_rencana_ulang=view.loops.get(11, 0), jumlah_perbaikan=view.loops.get(14, 0),
        tim=tuple(facts.names.get(login, login) for login in view.team),
        fungsi_tim={facts.names.get(login, login): facts.functions[login]
                    for login in view.team if login in facts.functions},
        pihak_pertama=settings.kepala_seksi_aplikasi,
        pihak_kedua=doc.Representative(
            nama=str(kontak.get("nama") or "........................................"),
            jabatan=str(kontak.get("jabatan") or f"Perwakilan {_opd(services, case).nama}"),
            instansi=_opd(services, case).nama),
        mengetahui=settings.kepala_dinas,
        repository_lokasi=_place(project.web_url) if project else None,
        wiki_lokasi=_place(project.wiki_url) if project else None,
        sop=sop_reference(services))


def sop_reference(services: Services) -> doc.SopReference:
    """The SOP every document cites: its number, name and Dasar Hukum (the SOP's header)."""
    sop = services.sop
    return doc.SopReference(sop.nomor, sop.nama, sop.header.dasar_hukum)


def _place(url: str) -> str | None:
    """Where a repository without a web address is, in words: its path on the server.

    A local git host with no ``[local_git] base_url`` gives ``file://`` addresses, which a
    signed document must not link (``_web_link``) but must still name.
    """
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return f"{unquote(parts.path)} (repositori git di server)"


def _deliverable_places(project: CaseProject | None) -> dict[str, str]:
    """Where each deliverable is on a local git host: the repository and its docs/ file."""
    if project is None or _place(project.web_url) is None:
        return {}
    repository = PurePosixPath(unquote(urlsplit(project.web_url).path)).name
    places = {d.name: f"{repository}: {d.path}" for d in DOCUMENTS}
    return places | {"Aplikasi": f"{repository} (cabang main)"}


def _where_found(services: Services, case: cases.Case) -> dict[str, str | None]:
    """Each present deliverable's link where step 12's gate finds it (wiki page or file).

    If GitLab cannot be read now, the documents keep their ``docs/`` file links (logged).
    """
    project = project_for(services, case.id)
    if services.codehost is None or project is None:
        return {}
    try:
        statuses = services.codehost.deliverables(project)
    except ConnectorError as exc:
        log.warning("case %s: deliverables not read for the Berita Acara: %s", case.id, exc)
        return {}
    return {s.name: s.url for s in statuses if s.present and s.url and _web_link(s.url)}


def _unavailability(services: Services, case: cases.Case, facts: CaseFacts) -> doc.Unavailability:
    verification = services.sop.findings_step or 6
    note = facts.last_note(verification)
    missing = kekurangan_from_findings(facts.last_findings(verification))
    return doc.Unavailability(
        nama_aplikasi=case.nama_aplikasi, deskripsi=str(case.letter.get("deskripsi") or "-"),
        opd=_opd(services, case), surat=_letter(case, None), kekurangan=missing,
        catatan=note or "-", tindak_lanjut=standard_next_steps(missing))


def _verified_on(facts: CaseFacts, on: date) -> date:
    found = facts.completed(6)
    return found[-1] if found else on


def _opd(services: Services, case: cases.Case) -> doc.Opd:
    agency = services.settings.opd.agencies.get(case.opd)
    return doc.Opd(kode=case.opd, nama=agency.name if agency else case.opd)


def _letter(case: cases.Case, fallback: date | None) -> doc.RequestLetter:
    try:
        tanggal = date.fromisoformat(str(case.letter.get("tanggal_surat")))
    except ValueError:
        tanggal = fallback or case.created_at.date()
    return doc.RequestLetter(nomor=case.nomor_surat, tanggal=tanggal,
                             perihal=str(case.letter.get("perihal") or case.nama_aplikasi))


def _web_link(url: str) -> str | None:
    """A project address fit for a signed document: http(s) only, so a local git host's
    ``file://`` repository (no ``[local_git] base_url``) is named without a link."""
    return url if url.startswith(("http://", "https://")) else None

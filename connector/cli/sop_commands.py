"""``sop-connector sop show|diagram|check``: the procedure as a table and as a flowchart."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from connector.cli.context import config_option, optional_settings
from connector.documents.words import tanggal_panjang
from connector.sop.diagram import mermaid
from connector.sop.loader import load_sop
from connector.sop.model import Sop, SopHeader, Step


def _sop(config_path: str | None, file: str | None) -> Sop:
    if file is not None:
        return load_sop(Path(file))
    settings = optional_settings(config_path)
    return load_sop(settings.sop_file if settings else None)


def _follows(step: Step) -> str:
    if step.decision is not None:
        return f"ya→{step.decision.ya} / tidak→{step.decision.tidak}"
    return "selesai" if step.next is None else f"→{step.next}"


def format_table(sop: Sop) -> str:
    """The steps as a plain-text table: number, title, role, time standard, what follows."""
    rows = [("No", "Langkah", "Pelaksana", "Waktu", "Lanjut")]
    rows += [(str(s.number), s.title, s.role.label, s.time.label if s.time else "-",
              _follows(s)) for s in sop.steps]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return f"SOP {sop.nomor}: {sop.nama}\n" + "\n".join(lines) + "\n"


def _tanggal(value: date | None) -> str:
    return tanggal_panjang(value) if value is not None else "-"


def format_header(sop: Sop) -> str:
    """The SOP's header (nomor, dates, approver and its lists) as plain text, as written."""
    h: SopHeader = sop.header
    lines = [f"Nomor SOP          : {sop.nomor}",
             f"Nama SOP           : {sop.nama}",
             f"Instansi           : {sop.instansi}",
             f"Tanggal Pembuatan  : {_tanggal(h.tanggal_pembuatan)}",
             f"Tanggal Revisi     : {_tanggal(h.tanggal_revisi)}",
             f"Tanggal Efektif    : {_tanggal(h.tanggal_efektif)}",
             f"Disahkan Oleh      : {h.disahkan_oleh or '-'}"]
    sections = (("Dasar Hukum", h.dasar_hukum),
                ("Kualifikasi Pelaksana", h.kualifikasi_pelaksana),
                ("Fungsi Tim Pengembang", h.kualifikasi_fungsi),
                ("Unsur Tim Pengembang", h.kualifikasi_status),
                ("Keterkaitan", h.keterkaitan),
                ("Peralatan/Perlengkapan", h.peralatan),
                ("Peringatan", h.peringatan),
                ("Pencatatan dan Pendataan", h.pencatatan))
    for title, items in sections:
        lines += ["", f"{title}:"]
        lines += [f"  {i}. {item}" for i, item in enumerate(items, 1)] or ["  -"]
    return "\n".join(lines) + "\n"


def register(main: click.Group) -> None:
    """Add the ``sop`` group to the main command."""

    @main.group()
    def sop() -> None:
        """Show or check the SOP the service runs."""

    @sop.command("show")
    @config_option
    @click.option("--file", type=click.Path(dir_okay=False), help="An SOP file to show.")
    @click.option("--full", is_flag=True, help="Also print the SOP's header (dasar hukum, "
                  "kualifikasi pelaksana, peringatan, ...).")
    def show(config_path: str | None, file: str | None, full: bool) -> None:
        """Print the steps as a table (with --full, the SOP's header first)."""
        found = _sop(config_path, file)
        if full:
            click.echo(format_header(found))
        click.echo(format_table(found), nl=False)

    @sop.command("diagram")
    @config_option
    @click.option("--file", type=click.Path(dir_okay=False), help="An SOP file to draw.")
    def diagram(config_path: str | None, file: str | None) -> None:
        """Print the SOP as a Mermaid flowchart."""
        click.echo(mermaid(_sop(config_path, file)), nl=False)

    @sop.command("check")
    @click.argument("file", type=click.Path(dir_okay=False))
    def check(file: str) -> None:
        """Validate an SOP file; every problem is reported with its step."""
        found = load_sop(Path(file))
        click.echo(f"{file}: ok, {len(found.steps)} steps")

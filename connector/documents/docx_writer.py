"""Build a DOCX from the documents' own HTML, so the DOCX and the PDF say the same thing.

The templates are well-formed XHTML written for this reader: paragraphs, headings, ordered
lists, tables (``fields`` without borders, ``grid`` with borders, ``ttd`` for signatures,
``kop`` for the letterhead) and a few classes that carry the look (``center``, ``right``,
``bagian``, ``ttd-nama``...). Anything else is read as a plain container, never dropped, so
no text that the PDF shows is missing from the DOCX. The SVG logo is replaced by its raster
twin, because Word does not take SVG from python-docx.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Protocol

from docx import Document as new_document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table
from docx.text.paragraph import Paragraph

from connector.documents.docx_style import Look, Run, collapse, look_of, normalise
from connector.documents.model import DocumentError


class Box(Protocol):
    """Where paragraphs and tables go: the document body or a table cell."""

    def add_paragraph(self, text: str = ..., style: None = ...) -> Paragraph: ...

    def add_table(self, rows: int, cols: int) -> Table: ...


BLOCKS = frozenset({"p", "div", "table", "ol", "ul", "li", "h1", "h2", "h3", "img",
                    "header", "footer", "main", "section"})
TEXT_WIDTH_CM = 16.0  # A4 (21 cm) less the 3 cm and 2 cm side margins of print.css
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_WIDTH = re.compile(r"width:\s*([\d.]+)%")
FIXED_TIME = datetime(2000, 1, 1)  # docProps and zip times: the content alone decides the bytes


def html_to_docx(html: str, *, logo: Path | None) -> bytes:
    """The DOCX bytes of a document's HTML; ``logo`` is the raster logo for the letterhead."""
    root = ET.fromstring(_NOT_XML.sub("\ufffd", html))
    body = root.find("body")
    if body is None:
        raise DocumentError("the document HTML has no <body>")
    document = new_document()
    _page_setup(document)
    props = document.core_properties
    props.title = collapse(root.findtext("head/title") or "")
    props.author = props.last_modified_by = ""
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    _Writer(document, logo).flow(body, document, Look())
    out = io.BytesIO()
    document.save(out)
    return _stable_zip(out.getvalue())


def _stable_zip(data: bytes) -> bytes:
    """The same package with fixed member times, so equal documents give equal bytes and a
    retried upload can be compared with what is already attached."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, src.read(info.filename))
    return out.getvalue()


def _page_setup(document: DocxDocument) -> None:
    """A4 with the margins of print.css, Arial 12 pt."""
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(1.5), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Arial", Pt(12)


class _Writer:
    """Walks the HTML once, writing paragraphs and tables into the document."""

    def __init__(self, document: DocxDocument, logo: Path | None) -> None:
        self.document = document
        self.logo = logo if logo is not None and logo.is_file() else None

    def flow(self, el: ET.Element, box: Box, look: Look, prefix: str = "") -> None:
        """Write ``el``'s mixed content: runs of inline text become paragraphs, blocks recurse."""
        runs: list[Run] = [(prefix, look)] if prefix else []
        self._text(el.text, look, runs)
        for child in el:
            if child.tag in BLOCKS:
                self._paragraph(box, runs, look)
                runs = []
                self.block(child, box, look)
            else:
                self.inline(child, look, runs)
            self._text(child.tail, look, runs)
        self._paragraph(box, runs, look)

    def block(self, el: ET.Element, box: Box, inherited: Look) -> None:
        """One block element: a table, a list, the logo, a spacer, a rule or a container."""
        look = look_of(el, inherited)
        classes = set((el.get("class") or "").split())
        if el.tag == "table":
            self.table(el, box, look)
        elif el.tag in ("ol", "ul"):
            self.items(el, box, look)
        elif el.tag == "img":
            self._logo(box)
        elif "ref" in classes:
            footer = self.document.sections[0].footer.paragraphs[0]
            footer.text = collapse("".join(el.itertext()))
            footer.runs[0].font.size = Pt(8)
        elif "kop-rule" in classes:
            _double_rule(box.add_paragraph())
        elif "ttd-ruang" in classes:
            box.add_paragraph().paragraph_format.space_after = Pt(42)
        else:
            self.flow(el, box, look)

    def items(self, el: ET.Element, box: Box, look: Look) -> None:
        """An ordered list, numbered in the text itself ("1.", "a.") so Word cannot renumber."""
        nested = replace(look, indent_cm=look.indent_cm + 0.9, first_line_cm=-0.6)
        for index, li in enumerate(el.findall("li")):
            marker = chr(ord("a") + index) if el.get("type") == "a" else str(index + 1)
            self.flow(li, box, look_of(li, nested), prefix=f"{marker}. ")

    def table(self, el: ET.Element, box: Box, look: Look) -> None:
        """A table with the widths of its ``<colgroup>``; ``grid`` tables get borders."""
        rows = el.findall("tr")
        widths = [float(m.group(1)) for col in el.iter("col")
                  if (m := _WIDTH.search(col.get("style", "")))]
        columns = max([len(widths)] + [len(tr) for tr in rows])
        table = box.add_table(rows=len(rows), cols=columns)
        table.autofit = False
        if "grid" in (el.get("class") or "").split():
            table.style = self.document.styles["Table Grid"]
        for tr, row in zip(rows, table.rows, strict=True):
            for i, (td, cell) in enumerate(zip(tr, row.cells, strict=False)):
                if i < len(widths):
                    cell.width = Cm(TEXT_WIDTH_CM * widths[i] / 100)
                self.flow(td, cell, look_of(td, replace(look, indent_cm=0, first_line_cm=0)))
                if len(cell.paragraphs) > 1 and not cell.paragraphs[0].text:
                    cell._element.remove(cell.paragraphs[0]._element)

    def inline(self, el: ET.Element, look: Look, runs: list[Run]) -> None:
        """Inline content: text with bold, italic or underline; ``<br/>`` breaks the line."""
        if el.tag == "br":
            runs.append(None)
            return
        inner = look_of(el, look)
        self._text(el.text, inner, runs)
        for child in el:
            self.inline(child, inner, runs)
            self._text(child.tail, inner, runs)

    @staticmethod
    def _text(text: str | None, look: Look, runs: list[Run]) -> None:
        if text:
            runs.append((text, look))

    def _logo(self, box: Box) -> None:
        if self.logo is not None:
            paragraph = box.add_paragraph()
            paragraph.add_run().add_picture(str(self.logo), width=Cm(2.1))

    @staticmethod
    def _paragraph(box: Box, runs: list[Run], look: Look) -> None:
        """Write the collected runs as one paragraph, whitespace collapsed as HTML does."""
        pieces = normalise(runs, look.verbatim)
        if not any(p is not None and p[0].strip() for p in pieces):
            return
        paragraph: Paragraph = box.add_paragraph()
        fmt = paragraph.paragraph_format
        fmt.alignment, fmt.space_after = look.align, Pt(look.space_after)
        fmt.left_indent, fmt.first_line_indent = Cm(look.indent_cm), Cm(look.first_line_cm)
        for piece in pieces:
            if piece is None:
                paragraph.add_run().add_break()
                continue
            run = paragraph.add_run(piece[0])
            run.bold, run.italic, run.underline = piece[1].bold, piece[1].italic, piece[1].underline
            if piece[1].size:
                run.font.size = Pt(piece[1].size)


def _double_rule(paragraph: Paragraph) -> None:
    """The letterhead's thick-over-thin rule, as a paragraph bottom border."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "thickThinSmallGap"), ("w:sz", "24"), ("w:space", "1"),
                       ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)
    paragraph.paragraph_format.space_after = Pt(12)

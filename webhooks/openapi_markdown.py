"""The Dokumentasi API page (``docs/dokumentasi-api.md``), written from the OpenAPI description.

``scripts/api-docs`` writes the page; a test fails when the committed page is not what this
module makes of the current description, so the page cannot drift from the service.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from webhooks.openapi import SPEC

TAG_TITLES = {"Intake": "Intake surat permohonan", "Webhook": "Webhook Redmine dan GitLab",
              "API": "API kasus", "Layanan": "Layanan", "Dasbor": "Dasbor",
              "Verifikasi": "Verifikasi dokumen"}
PLACES = {"path": "path", "query": "query", "header": "header", "cookie": "cookie"}


def render_markdown(spec: dict[str, Any] = SPEC) -> str:
    """The whole page, in Bahasa Indonesia, ending with one newline."""
    lines = [f"# Dokumentasi API {spec['info']['title']}", "",
             "<!-- Dibuat otomatis dari /openapi.json oleh scripts/api-docs; jangan diubah "
             "dengan tangan. -->", "",
             spec["info"]["description"], "",
             "Deskripsi lengkap dalam format OpenAPI 3.1 tersedia di `GET /openapi.json` "
             "pada layanan yang berjalan. Semua jawaban galat berbentuk JSON "
             "`{\"error\": ..., \"message\": ...}`, kecuali halaman dasbor (HTML).", ""]
    lines += _security_section(spec["components"]["securitySchemes"])
    lines += _summary_table(spec)
    for tag, title in TAG_TITLES.items():
        operations = list(_operations(spec, tag))
        if not operations:
            continue
        lines += [f"## {title}", ""]
        for path, method, operation in operations:
            lines += _operation(path, method, operation)
    return "\n".join(lines).rstrip("\n") + "\n"


def _operations(spec: dict[str, Any], tag: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if tag in operation.get("tags", []):
                yield path, method, operation


def _security_section(schemes: dict[str, Any]) -> list[str]:
    lines = ["## Autentikasi", "", "| Nama | Cara | Keterangan |", "| --- | --- | --- |"]
    for name, scheme in schemes.items():
        lines.append(f"| `{name}` | {_how(scheme)} | {_cell(scheme.get('description', ''))} |")
    return [*lines, ""]


def _how(scheme: dict[str, Any]) -> str:
    if scheme["type"] == "http":
        return f"header `Authorization: {scheme['scheme'].capitalize()} <token>`"
    return f"{PLACES[scheme['in']]} `{scheme['name']}`"


def _summary_table(spec: dict[str, Any]) -> list[str]:
    lines = ["## Daftar endpoint", "", "| Metode | Path | Ringkasan | Autentikasi |",
             "| --- | --- | --- | --- |"]
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            lines.append(f"| {method.upper()} | `{path}` | {_cell(operation['summary'])} | "
                         f"{_security(operation)} |")
    return [*lines, ""]


def _security(operation: dict[str, Any]) -> str:
    names = [" dan ".join(f"`{n}`" for n in requirement)
             for requirement in operation.get("security", []) if requirement]
    if names:
        return " atau ".join(names)
    return str(operation.get("x-autentikasi", "tanpa autentikasi"))


def _operation(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    lines = [f"### {method.upper()} `{path}`", "", f"**{operation['summary']}**", ""]
    if operation.get("description"):
        lines += [operation["description"], ""]
    lines += [f"Autentikasi: {_security(operation)}.", ""]
    if operation.get("parameters"):
        lines += ["Parameter:", "", "| Nama | Letak | Wajib | Jenis | Keterangan |",
                  "| --- | --- | --- | --- | --- |"]
        for p in operation["parameters"]:
            lines.append(f"| `{p['name']}` | {p['in']} | {_yes(p.get('required', False))} | "
                         f"{_type(p['schema'])} | {_cell(p.get('description', ''))} |")
        lines.append("")
    body = operation.get("requestBody")
    if body:
        lines += _body("Isi permintaan", body)
    lines += ["Jawaban:", "", "| Kode | Keterangan | Isi |", "| --- | --- | --- |"]
    for code, answer in operation["responses"].items():
        lines.append(f"| {code} | {_cell(answer['description'])} | "
                     f"{', '.join(f'`{t}`' for t in answer.get('content', {})) or '-'} |")
    lines.append("")
    for code, answer in operation["responses"].items():
        lines += _answer_details(code, answer)
    return lines


def _body(title: str, body: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for media, content in body["content"].items():
        lines += [f"{title} (`{media}`):", ""]
        fields = list(_fields(content.get("schema", {}), ""))
        if fields:
            lines += ["| Kolom | Wajib | Jenis | Keterangan |", "| --- | --- | --- | --- |"]
            lines += [f"| `{name}` | {_yes(required)} | {kind} | {_cell(text)} |"
                      for name, required, kind, text in fields]
            lines.append("")
        elif content.get("schema", {}).get("description"):
            lines += [content["schema"]["description"] + ".", ""]
        if "example" in content:
            lines += ["Contoh:", "", "```json", _pretty(content["example"]), "```", ""]
    return lines


def _answer_details(code: str, answer: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for name, header in answer.get("headers", {}).items():
        lines += [f"Jawaban {code} membawa header `{name}`: {header['description']}.", ""]
    media = answer.get("content", {}).get("application/json")
    if media is None:
        return lines
    fields = list(_fields(media["schema"], ""))
    if fields and code.startswith("2"):
        lines += [f"Isi jawaban {code}:", "", "| Kolom | Selalu ada | Jenis | Keterangan |",
                  "| --- | --- | --- | --- |"]
        lines += [f"| `{name}` | {_yes(required)} | {kind} | {_cell(text)} |"
                  for name, required, kind, text in fields]
        lines.append("")
    if "example" in media:
        lines += [f"Contoh jawaban {code}:", "", "```json", _pretty(media["example"]), "```",
                  ""]
    return lines


def _fields(schema: dict[str, Any], prefix: str) -> Iterator[tuple[str, bool, str, str]]:
    """(name, required, type, description) of every property, nested ones dotted."""
    if "oneOf" in schema:
        for choice in schema["oneOf"]:
            yield from _fields(choice, prefix)
        return
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        full = f"{prefix}{name}"
        yield full, name in required, _type(prop), prop.get("description", "")
        if prop.get("type") == "object":
            yield from _fields(prop, f"{full}.")
        elif prop.get("type") == "array" and prop.get("items", {}).get("type") == "object":
            yield from _fields(prop["items"], f"{full}[].")


def _type(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    kinds = schema.get("type", "apa saja")
    text = " atau ".join(kinds) if isinstance(kinds, list) else kinds
    if kinds == "array" and "type" in schema.get("items", {}):
        text = f"daftar {_type(schema['items'])}"
    if "format" in schema:
        text += f" ({schema['format']})"
    if "enum" in schema:
        text += ": " + ", ".join(f"`{v}`" for v in schema["enum"])
    limits = [f"{word} {schema[key]}" for key, word in
              (("maxLength", "maks."), ("maxItems", "maks."), ("minimum", "min."))
              if key in schema]
    return text + (f" ({', '.join(limits)})" if limits else "")


def _yes(value: bool) -> str:
    return "ya" if value else "tidak"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


DEFAULT_PAGE = Path(__file__).resolve().parent.parent / "docs" / "dokumentasi-api.md"


def main(argv: list[str] | None = None) -> int:
    """Write the page (default ``docs/dokumentasi-api.md``), or ``--check`` that it is current."""
    parser = argparse.ArgumentParser(prog="scripts/api-docs", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PAGE)
    parser.add_argument("--check", action="store_true",
                        help="hanya periksa bahwa halaman sesuai dengan /openapi.json")
    args = parser.parse_args(argv)
    page = render_markdown()
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != page:
            print(f"{args.path} tidak sesuai dengan /openapi.json; jalankan scripts/api-docs",
                  file=sys.stderr)
            return 1
        return 0
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(page, encoding="utf-8")
    print(f"Ditulis: {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``GET /openapi.json``: the OpenAPI description of the service's endpoints."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from connector import __version__
from connector.intake.letter import MAX_ATTACHMENTS

blueprint = Blueprint("openapi", __name__)

_TEXT = {"type": "string", "minLength": 1}
_ERROR: dict[str, Any] = {"type": "object", "required": ["error", "message"],
          "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
_LETTER = {
    "type": "object", "additionalProperties": False,
    "required": ["nomor_surat", "tanggal_surat", "opd", "perihal", "nama_aplikasi", "deskripsi",
                 "kontak"],
    "properties": {
        "nomor_surat": {**_TEXT, "maxLength": 100, "example": "027/145/DINKES/2026"},
        "tanggal_surat": {"type": "string", "format": "date", "example": "2026-11-20"},
        "opd": {**_TEXT, "maxLength": 50, "description": "Kode OPD dari konfigurasi [opd]",
                "example": "DINKES"},
        "perihal": {**_TEXT, "maxLength": 500},
        "nama_aplikasi": {**_TEXT, "maxLength": 200},
        "deskripsi": {**_TEXT, "maxLength": 20000},
        "kontak": {
            "type": "object", "additionalProperties": False, "required": ["nama", "email"],
            "properties": {"nama": {**_TEXT, "maxLength": 200},
                           "jabatan": {"type": "string", "maxLength": 200},
                           "email": {"type": "string", "format": "email", "maxLength": 254},
                           "telepon": {"type": "string", "maxLength": 40}}},
        "lampiran": {
            "type": "array", "maxItems": MAX_ATTACHMENTS,
            "items": {"type": "object", "additionalProperties": False,
                      "required": ["nama_file", "content_type", "isi_base64"],
                      "properties": {"nama_file": _TEXT, "content_type": _TEXT,
                                     "isi_base64": {"type": "string",
                                                    "contentEncoding": "base64"}}}},
    },
}
_CASE_REF = {"type": "object", "required": ["case_id", "case_key", "status", "status_url"],
             "properties": {"case_id": {"type": "integer"}, "case_key": {"type": "string"},
                            "status": {"type": "string"}, "created": {"type": "boolean"},
                            "status_url": {"type": "string", "format": "uri"}}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": schema}}}


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "sop-connector", "version": __version__,
             "description": "Layanan Permohonan Pembuatan Aplikasi (SOP 555/568/DKIST/2021)."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {
        "/webhooks/intake": {"post": {
            "summary": "Terima surat permohonan pembuatan aplikasi",
            "security": [{"bearer": []}],
            "requestBody": {"required": True,
                            "content": {"application/json": {"schema": _LETTER}}},
            "responses": {
                "202": _json(_CASE_REF, "Surat disimpan; kasus akan dibuat di Redmine"),
                "200": _json(_CASE_REF, "Surat yang sama sudah diterima; kasus yang ada"),
                "401": _json(_ERROR, "Token atau tanda tangan salah atau tidak ada"),
                "413": _json(_ERROR, "Isi permintaan terlalu besar"),
                "422": _json({**_ERROR, "properties": {
                    **_ERROR["properties"],
                    "fields": {"type": "array", "items": {
                        "type": "object", "properties": {"field": {"type": "string"},
                                                         "problem": {"type": "string"}}}}}},
                    "Kolom yang salah, masing-masing disebutkan"),
                "503": _json(_ERROR, "Penyimpanan tidak tersedia; kirim ulang nanti"),
            }}},
        "/api/cases/{case_id}": {"get": {
            "summary": "Status dan riwayat satu kasus",
            "security": [{"bearer": []}],
            "parameters": [{"name": "case_id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "responses": {"200": _json({"type": "object"}, "Kasus dan riwayatnya"),
                          "401": _json(_ERROR, "Token salah atau tidak ada"),
                          "404": _json(_ERROR, "Kasus tidak ditemukan")}}},
        "/api/cases": {"get": {
            "summary": "Daftar kasus (data yang sama dengan dasbor)",
            "security": [{"bearer": []}],
            "parameters": [{"name": "opd", "in": "query", "schema": {"type": "string"}},
                           {"name": "status", "in": "query",
                            "schema": {"type": "string", "enum": [
                                "received", "open", "rejected", "closed", "semua"]}}],
            "responses": {"200": _json({"type": "object"}, "Kasus beserta sisa hari kerja"),
                          "401": _json(_ERROR, "Belum masuk atau token salah")}}},
        "/webhooks/redmine/{secret}": {"post": {
            "summary": "Petunjuk perubahan dari plugin redmine_webhook",
            "parameters": [{"name": "secret", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"202": {"description": "Disimpan"}, "200": {"description": "Duplikat"
                                                                         " atau diabaikan"},
                          "401": _json(_ERROR, "Rahasia salah")}}},
        "/webhooks/redmine": {"post": {
            "summary": "Webhook Redmine 7 (X-Redmine-Signature-256)",
            "responses": {"202": {"description": "Disimpan"}, "200": {"description": "Duplikat"
                                                                         " atau diabaikan"},
                          "401": _json(_ERROR, "Tanda tangan salah")}}},
        "/webhooks/gitlab": {"post": {
            "summary": "Webhook proyek GitLab (X-Gitlab-Token atau Standard Webhooks)",
            "responses": {"202": {"description": "Disimpan"}, "200": {"description": "Duplikat"
                                                                         " atau diabaikan"},
                          "401": _json(_ERROR, "Token salah")}}},
        "/healthz": {"get": {
            "summary": "Kesehatan penyimpanan dan antrean",
            "responses": {"200": _json({"type": "object"}, "Sehat"),
                          "503": _json({"type": "object"}, "Penyimpanan tidak tersedia")}}},
        "/openapi.json": {"get": {"summary": "Deskripsi OpenAPI ini",
                                  "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
}


@blueprint.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description."""
    return jsonify(SPEC)

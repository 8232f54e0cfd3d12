"""JSON schemas, security schemes and examples for the OpenAPI description (``openapi.py``).

Every schema here describes what the views really send and accept; the contract test
(``tests/test_openapi_contract.py``) checks the running app against them.
"""

from __future__ import annotations

from typing import Any

from connector.codehost.events import KINDS
from connector.intake.letter import MAX_ATTACHMENTS
from connector.store.schema import CaseStatus, StepState

JSON = "application/json"
HTML = "text/html"
TEXT = {"type": "string", "minLength": 1}
NULLABLE_INT = {"type": ["integer", "null"]}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
STATUSES = [s.value for s in CaseStatus]

SECURITY_SCHEMES: dict[str, Any] = {
    "intakeToken": {
        "type": "http", "scheme": "bearer",
        "description": "Token intake milik satu OPD (`[opd.agencies.<KODE>] intake_token`, "
                       "atau token gerbang bersama `[webhooks] intake_token` bila "
                       "`shared_gateway = true`), dikirim sebagai "
                       "`Authorization: Bearer <token>`."},
    "standardWebhooks": {
        "type": "apiKey", "in": "header", "name": "webhook-signature",
        "description": "Tanda tangan Standard Webhooks: `webhook-id`, `webhook-timestamp` "
                       "(detik sejak 1970, paling lama 5 menit) dan `webhook-signature` = "
                       "`v1,<base64 HMAC-SHA256(kunci, id.timestamp.isi)>`, dengan kunci dari "
                       "rahasia `whsec_<base64>` (`[opd.agencies.<KODE>] "
                       "intake_signing_secret` untuk intake, `[webhooks] gitlab_token` untuk "
                       "GitLab)."},
    "gitlabToken": {
        "type": "apiKey", "in": "header", "name": "X-Gitlab-Token",
        "description": "Token rahasia webhook proyek GitLab (`[webhooks] gitlab_token`; "
                       "juga untuk rahasia `whsec_` kecuali `[gitlab] signed_webhooks`)."},
    "redmineSignature": {
        "type": "apiKey", "in": "header", "name": "X-Redmine-Signature-256",
        "description": "`sha256=<hex HMAC-SHA256([webhooks] redmine_secret, isi mentah)>`, "
                       "dikirim oleh webhook bawaan Redmine 7."},
    "dashboardToken": {
        "type": "http", "scheme": "bearer",
        "description": "Token akses dasbor (`[dashboard] access_token`)."},
    "dashboardSession": {
        "type": "apiKey", "in": "cookie", "name": "sop_dashboard",
        "description": "Cookie sesi dasbor setelah masuk di `/dashboard/masuk` (akun Redmine "
                       "atau token akses)."},
}

ERROR: dict[str, Any] = {
    "type": "object", "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}}}
FIELD_ERRORS: dict[str, Any] = {
    **ERROR, "required": ["error", "message", "fields"],
    "properties": {**ERROR["properties"], "fields": {"type": "array", "items": {
        "type": "object", "required": ["field", "problem"],
        "properties": {"field": {"type": "string"}, "problem": {"type": "string"}}}}}}

LETTER: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["nomor_surat", "tanggal_surat", "opd", "perihal", "nama_aplikasi", "deskripsi",
                 "kontak"],
    "properties": {
        "nomor_surat": {**TEXT, "maxLength": 100, "description": "Nomor surat permohonan"},
        "tanggal_surat": {"type": "string", "format": "date",
                          "description": "Tanggal surat, YYYY-MM-DD"},
        "opd": {**TEXT, "maxLength": 50, "description": "Kode OPD dari konfigurasi [opd]"},
        "perihal": {**TEXT, "maxLength": 500, "description": "Perihal surat"},
        "nama_aplikasi": {**TEXT, "maxLength": 200,
                          "description": "Nama aplikasi yang dimohon"},
        "deskripsi": {**TEXT, "maxLength": 20000,
                      "description": "Uraian kebutuhan aplikasi"},
        "kontak": {
            "type": "object", "additionalProperties": False, "required": ["nama", "email"],
            "description": "Narahubung di OPD",
            "properties": {"nama": {**TEXT, "maxLength": 200},
                           "jabatan": {"type": "string", "maxLength": 200},
                           "email": {"type": "string", "format": "email", "maxLength": 254},
                           "telepon": {"type": "string", "maxLength": 40}}},
        "lampiran": {
            "type": "array", "maxItems": MAX_ATTACHMENTS,
            "description": "Berkas lampiran, misalnya pindaian surat (PDF)",
            "items": {"type": "object", "additionalProperties": False,
                      "required": ["nama_file", "content_type", "isi_base64"],
                      "properties": {"nama_file": TEXT, "content_type": TEXT,
                                     "isi_base64": {"type": "string",
                                                    "contentEncoding": "base64",
                                                    "description": "Isi berkas, base64"}}}},
    },
}
LETTER_EXAMPLE = {
    "nomor_surat": "027/145/DINKES/2026", "tanggal_surat": "2026-11-20", "opd": "DINKES",
    "perihal": "Permohonan Pembuatan Aplikasi Sistem Informasi Puskesmas",
    "nama_aplikasi": "SI Puskesmas",
    "deskripsi": "Aplikasi pencatatan kunjungan pasien di 26 puskesmas.",
    "kontak": {"nama": "dr. Siti Aminah", "jabatan": "Kepala Seksi Data",
               "email": "siti@dinkes.sumbawakab.go.id", "telepon": "0371-21234"},
    "lampiran": [{"nama_file": "surat-permohonan.pdf", "content_type": "application/pdf",
                  "isi_base64": "JVBERi0xLjQgc3VyYXQ="}],
}
CASE_REF: dict[str, Any] = {
    "type": "object", "required": ["case_id", "case_key", "status", "created", "status_url"],
    "properties": {"case_id": {"type": "integer"}, "case_key": {"type": "string"},
                   "status": {"type": "string", "enum": STATUSES},
                   "created": {"type": "boolean"},
                   "status_url": {"type": "string", "format": "uri"}}}
CASE_REF_EXAMPLE = {"case_id": 1, "case_key": "DINKES:027/145/DINKES/2026",
                    "status": "received", "created": True,
                    "status_url": "https://sop.example.go.id/api/cases/1"}

CASE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "case_key", "opd", "nomor_surat", "nama_aplikasi", "status",
                 "current_step", "redmine_issue_id", "steps", "timeline"],
    "properties": {
        "id": {"type": "integer"}, "case_key": {"type": "string"}, "opd": {"type": "string"},
        "nomor_surat": {"type": "string"}, "nama_aplikasi": {"type": "string"},
        "status": {"type": "string", "enum": STATUSES}, "current_step": NULLABLE_INT,
        "redmine_issue_id": NULLABLE_INT,
        "steps": {"type": "array", "items": {
            "type": "object",
            "required": ["step", "state", "redmine_issue_id", "started_on", "due_on",
                         "completed_on"],
            "properties": {"step": {"type": "integer"},
                           "state": {"type": "string", "enum": [s.value for s in StepState]},
                           "redmine_issue_id": NULLABLE_INT, "started_on": NULLABLE_DATE,
                           "due_on": NULLABLE_DATE, "completed_on": NULLABLE_DATE}}},
        "timeline": {"type": "array", "items": {
            "type": "object",
            "required": ["at", "actor", "action", "step_from", "step_to", "journal_id"],
            "properties": {"at": {"type": "string", "format": "date-time"},
                           "actor": {"type": "string"}, "action": {"type": "string"},
                           "step_from": NULLABLE_INT, "step_to": NULLABLE_INT,
                           "journal_id": NULLABLE_INT}}}}}
CASE_EXAMPLE = {
    "id": 1, "case_key": "DINKES:027/145/DINKES/2026", "opd": "DINKES",
    "nomor_surat": "027/145/DINKES/2026", "nama_aplikasi": "SI Puskesmas", "status": "open",
    "current_step": 2, "redmine_issue_id": 41,
    "steps": [{"step": 1, "state": "done", "redmine_issue_id": 42, "started_on": "2026-11-23",
               "due_on": "2026-11-23", "completed_on": "2026-11-23"}],
    "timeline": [{"at": "2026-11-23T01:00:00+00:00", "actor": "intake",
                  "action": "case_received", "step_from": None, "step_to": None,
                  "journal_id": None}]}

SUMMARY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "opd", "nama_aplikasi", "nomor_surat", "status", "current_step",
                 "step_title", "role", "holder", "started_on", "due_on", "hari_kerja_left",
                 "overdue", "development", "replans", "reworks", "redmine_issue_id", "url"],
    "properties": {
        "id": {"type": "integer"}, "opd": {"type": "string"},
        "nama_aplikasi": {"type": "string"}, "nomor_surat": {"type": "string"},
        "status": {"type": "string", "enum": STATUSES}, "current_step": NULLABLE_INT,
        "step_title": {"type": ["string", "null"]}, "role": {"type": ["string", "null"]},
        "holder": {"type": ["string", "null"]}, "started_on": NULLABLE_DATE,
        "due_on": NULLABLE_DATE,
        "hari_kerja_left": {**NULLABLE_INT, "description": "Negatif: terlambat"},
        "overdue": {"type": "boolean"},
        "development": {"type": "object", "required": ["used", "limit", "left"],
                        "properties": {k: {"type": "integer"} for k in ("used", "limit",
                                                                       "left")}},
        "replans": {"type": "integer"}, "reworks": {"type": "integer"},
        "redmine_issue_id": NULLABLE_INT, "url": {"type": "string", "format": "uri"}}}
CASE_LIST: dict[str, Any] = {
    "type": "object", "required": ["filters", "cases"],
    "properties": {
        "filters": {"type": "object", "required": ["opd", "status"],
                    "properties": {"opd": {"type": ["string", "null"]},
                                   "status": {"type": "string", "enum": [*STATUSES, "semua"]}}},
        "cases": {"type": "array", "items": SUMMARY}}}
CASE_LIST_EXAMPLE = {"filters": {"opd": "DINKES", "status": "open"}, "cases": [{
    "id": 1, "opd": "DINKES", "nama_aplikasi": "SI Puskesmas",
    "nomor_surat": "027/145/DINKES/2026", "status": "open", "current_step": 2,
    "step_title": "Disposisi Kepala Dinas ke Kepala Bidang TI", "role": "Kepala Dinas",
    "holder": "kadis",
    "started_on": "2026-11-23", "due_on": "2026-11-24", "hari_kerja_left": 1,
    "overdue": False, "development": {"used": 0, "limit": 60, "left": 60}, "replans": 0,
    "reworks": 0, "redmine_issue_id": 41, "url": "https://sop.example.go.id/dashboard/cases/1"}]}

ACCEPTED: dict[str, Any] = {
    "type": "object", "required": ["accepted", "duplicate"],
    "properties": {"accepted": {"const": True}, "duplicate": {"type": "boolean"},
                   "issue_id": {"type": "integer"},
                   "kind": {"type": "string", "enum": list(KINDS)}}}
IGNORED: dict[str, Any] = {
    "type": "object", "required": ["ignored"], "properties": {"ignored": {"type": "string"}}}
HOOK_200: dict[str, Any] = {"oneOf": [ACCEPTED, IGNORED]}

HEALTH: dict[str, Any] = {
    "type": "object", "required": ["status", "version", "store", "queue"],
    "properties": {"status": {"const": "ok"}, "version": {"type": "string"},
                   "store": {"const": "ok"},
                   "queue": {"type": "object", "additionalProperties": {"type": "integer"},
                             "required": ["oldest_pending_age_seconds"]},
                   "gitlab_hooks_disabled": {"type": "array", "items": {"type": "string"}}}}
HEALTH_EXAMPLE = {"status": "ok", "version": "0.1.0", "store": "ok",
                  "queue": {"pending": 0, "running": 0, "done": 12, "failed": 0, "dead": 0,
                            "oldest_pending_age_seconds": 0}}
UNHEALTHY: dict[str, Any] = {
    "type": "object", "required": ["status", "store"],
    "properties": {"status": {"const": "error"}, "store": {"const": "unavailable"}}}

SIGN_IN_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {"login": {"type": "string", "description": "Login Redmine"},
                   "password": {"type": "string", "description": "Kata sandi Redmine"},
                   "token": {"type": "string", "description": "Token akses dasbor"},
                   "next": {"type": "string", "description": "Halaman dasbor tujuan"},
                   "csrf": {"type": "string", "description": "Token CSRF dari formulir"}}}
SIGN_OUT_FORM: dict[str, Any] = {
    "type": "object",
    "properties": {"csrf": {"type": "string", "description": "Token CSRF dari halaman"}}}

# -- the sop_connector Redmine plugin's panel (GET /api/redmine/issues/{issue_id}/panel) ------

PLUGIN_SECRET_SCHEME: dict[str, Any] = {
    "type": "http", "scheme": "bearer",
    "description": "Rahasia `[webhooks] redmine_secret`, dikirim plugin Redmine `sop_connector` "
                   "sebagai `Authorization: Bearer <rahasia>`."}
_NULLABLE_TEXT = {"type": ["string", "null"]}
PANEL: dict[str, Any] = {
    "type": "object", "required": ["case", "current", "loops", "step"],
    "properties": {
        "case": {"type": "object", "required": ["id", "case_key", "status", "dashboard_url"]},
        "current": {"type": ["object", "null"], "properties": {
            "step": {"type": "integer"}, "title": {"type": "string"},
            "role": {"type": "string"}, "holders": {"type": "array", "items": {"type": "string"}},
            "due_on": _NULLABLE_TEXT, "hari_kerja_left": {"type": ["integer", "null"]},
            "documents": {"type": "array", "items": {"type": "string"}}}},
        "loops": {"type": "object", "additionalProperties": {"type": "integer"}},
        "step": {"type": ["object", "null"], "properties": {
            "step": {"type": "integer"}, "title": {"type": "string"}, "state": _NULLABLE_TEXT,
            "on_complete": {"type": "string"}}}}}
PANEL_EXAMPLE = {
    "case": {"id": 7, "case_key": "DINKES:027/145/DINKES/2026", "nama_aplikasi": "SI Puskesmas",
             "opd": "DINKES", "status": "open",
             "dashboard_url": "https://sop.example.go.id/dashboard/cases/7"},
    "current": {"step": 5, "title": "Kepala Seksi Aplikasi menyiapkan nota dinas",
                "role": "Kepala Seksi Aplikasi", "holders": ["kasi"], "due_on": "2026-03-18",
                "hari_kerja_left": 2, "documents": ["Nota Dinas"]},
    "loops": {"11": 1},
    "step": {"step": 5, "title": "Kepala Seksi Aplikasi menyiapkan nota dinas",
             "state": "active",
             "on_complete": "langkah 6 (Keputusan), untuk Kepala Bidang TI: kabid"}}

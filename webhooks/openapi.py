"""``GET /openapi.json``: the OpenAPI description of every endpoint of the service.

``tests/test_openapi_contract.py`` keeps it whole (every Flask route is described, nothing
else is) and truthful (the running app's answers match it); ``scripts/api-docs`` turns it
into ``docs/dokumentasi-api.md``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from connector import __version__
from webhooks import openapi_schemas as s
from webhooks.cases_api import MAX_CASE_ID

blueprint = Blueprint("openapi", __name__)
Operation = dict[str, Any]


def _json(schema: dict[str, Any], description: str, example: Any = None,
          headers: dict[str, Any] | None = None) -> dict[str, Any]:
    media: dict[str, Any] = {"schema": schema}
    if example is not None:
        media["example"] = example
    answer: dict[str, Any] = {"description": description, "content": {s.JSON: media}}
    if headers:
        answer["headers"] = headers
    return answer


def _error(description: str, example_error: str, example_message: str,
           headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return _json(s.ERROR, description, {"error": example_error, "message": example_message},
                 headers)


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {s.HTML: {"schema": {"type": "string"}}}}


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


REDIRECT = {"description": "Dialihkan (Location)", "headers": {
    "Location": {**_header("Alamat tujuan"), "required": True}}}
TO_SIGN_IN = {**REDIRECT, "description": "Belum masuk: dialihkan ke `/dashboard/masuk`"}
WWW_AUTHENTICATE = {"WWW-Authenticate": _header('`Bearer realm="sop-connector"`')}
R401 = _error("Token, rahasia atau tanda tangan salah atau tidak ada; tidak ada yang disimpan",
              "unauthorized", "wrong bearer token")
R413 = _error("Isi permintaan melebihi `[server] max_body_bytes`; tidak ada yang disimpan",
              "request_entity_too_large", "The data value transmitted exceeds the capacity "
              "limit.")
R422_HOOK = _error("Isi bukan JSON; tidak ada yang disimpan", "invalid_request",
                   "the body is not JSON")
R503 = _error("Penyimpanan sementara tidak tersedia; kirim ulang nanti", "store_unavailable",
              "Penyimpanan sementara tidak tersedia; kirim ulang nanti.",
              {"Retry-After": _header("Detik sebelum mencoba lagi")})
R404 = _error("Kasus tidak ditemukan", "not_found", "Kasus 7 tidak ditemukan.")
RETRY_AFTER = {"Retry-After": {**_header("Detik sebelum boleh mencoba lagi"), "required": True}}
R429 = _error("Terlalu banyak kredensial salah dari alamat ini dalam "
              "`[webhooks] throttle_window_seconds`; tidak ada yang diperiksa atau disimpan",
              "too_many_requests",
              "Terlalu banyak kredensial yang salah; coba lagi dalam 42 detik.", RETRY_AFTER)
R429_PAGE = {**_html("Terlalu banyak percobaan masuk yang gagal dari alamat ini atau untuk "
                     "login ini; tidak ada yang diperiksa"), "headers": RETRY_AFTER}
CASE_ID = {"name": "case_id", "in": "path", "required": True,
           "description": "Nomor kasus (`case_id` dari jawaban intake)",
           "schema": {"type": "integer", "minimum": 0,
                      "maximum": MAX_CASE_ID}}
ISSUE_ID = {"name": "issue_id", "in": "path", "required": True,
            "description": "Nomor masalah Redmine (kasus atau subtugas langkah)",
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CASE_ID}}
TOKEN = {"name": "token", "in": "path", "required": True,
         "description": "Token dokumen dari kode QR-nya", "schema": {"type": "string"}}
MONTH = {"name": "month", "in": "query", "description": "Bulan `YYYY-MM` (bawaan: bulan ini)",
         "schema": {"type": "string"}}
FILTERS = [{"name": "opd", "in": "query", "description": "Kode OPD (kosong: semua)",
            "schema": {"type": "string"}},
           {"name": "status", "in": "query",
            "description": "Status kasus, atau `semua` (bawaan: `open`)",
            "schema": {"type": "string", "enum": [*s.STATUSES, "semua"]}}]
HOOK_JSON_BODY = {"required": True, "content": {s.JSON: {"schema": {
    "description": "Dokumen JSON pengirim; hanya nomor isu/proyek yang dipakai"}}}}
STAFF_ONLY = _html("Tim teknis OPD: rekap semua OPD tidak untuknya")
DASHBOARD_AUTH: list[dict[str, list[str]]] = [{"dashboardSession": []}]


def _hook(summary: str, description: str, security: list[dict[str, list[str]]],
          accepted_example: dict[str, Any], **extra: Any) -> Operation:
    return {
        "summary": summary, "description": description, "tags": ["Webhook"],
        "security": security, "requestBody": HOOK_JSON_BODY, **extra,
        "responses": {
            "202": _json(s.ACCEPTED, "Kiriman dan tugasnya disimpan", accepted_example),
            "200": _json(s.HOOK_200, "Kiriman yang sama sudah diterima (`duplicate: true`), "
                         "atau peristiwa tidak dipakai (`ignored`); tidak ada yang baru "
                         "disimpan", {"ignored": "event 'closed'"}),
            "401": R401, "413": R413, "422": R422_HOOK, "503": R503}}


def _page(summary: str, description: str, **extra: Any) -> Operation:
    return {"summary": summary, "description": description, "tags": ["Dasbor"],
            "security": DASHBOARD_AUTH, **extra,
            "responses": {"200": _html("Halaman HTML"), "302": TO_SIGN_IN,
                          "400": _html("Parameter salah; halaman galat"), "503": R503}}


INTAKE: Operation = {
    "summary": "Terima surat permohonan pembuatan aplikasi",
    "description": "Surat, lampiran dan tugas `open_case` disimpan dalam satu transaksi "
                   "sebelum dijawab 202; kasus Redmine dibuat oleh worker. Kredensial OPD "
                   "hanya berlaku untuk surat OPD itu sendiri (lainnya 403). Surat yang sama "
                   "(OPD dan nomor surat, isi sama) dijawab 200 dengan kasus yang ada tanpa "
                   "menyimpan apa pun; isi lain dengan nomor yang sama dijawab 409. Header "
                   "`Idempotency-Key` atau `webhook-id` menandai kiriman ulang.",
    "tags": ["Intake"], "security": [{"intakeToken": []}, {"standardWebhooks": []}],
    "requestBody": {"required": True, "content": {s.JSON: {"schema": s.LETTER,
                                                           "example": s.LETTER_EXAMPLE}}},
    "responses": {
        "202": _json(s.CASE_REF, "Surat disimpan; kasus akan dibuat di Redmine",
                     s.CASE_REF_EXAMPLE),
        "200": _json(s.CASE_REF, "Surat yang sama sudah diterima; kasus yang ada",
                     {**s.CASE_REF_EXAMPLE, "created": False}),
        "401": {**R401, "headers": WWW_AUTHENTICATE},
        "403": _error("Kredensial ini milik OPD lain daripada `opd` surat; tidak ada yang "
                      "disimpan", "forbidden", "Kredensial ini milik OPD DINKES; surat atas "
                      "nama OPD 'BAPPEDA' tidak diterima dengan kredensial ini."),
        "409": _json(s.FIELD_ERRORS, "Nomor surat ini sudah diterima dengan isi lain; kolom "
                     "yang berbeda disebutkan; tidak ada yang disimpan",
                     {"error": "conflict", "message": "Surat dengan nomor ini sudah "
                      "diterima dengan isi yang berbeda; kirim surat baru dengan nomor surat "
                      "baru, atau kirim ulang isi yang sama.", "case_id": 1,
                      "case_key": "DINKES:027/145/DINKES/2026",
                      "fields": [{"field": "perihal",
                                  "problem": "berbeda dari surat yang sudah diterima"}]}),
        "413": R413,
        "422": _json(s.FIELD_ERRORS, "Kolom yang salah, masing-masing disebutkan; tidak ada "
                     "yang disimpan", {"error": "invalid_request", "message":
                                       "Permintaan tidak valid; perbaiki kolom berikut.",
                                       "fields": [{"field": "tanggal_surat", "problem":
                                                   "harus tanggal dengan format "
                                                   "YYYY-MM-DD"}]}),
        "429": R429, "503": R503}}

REDMINE_PLUGIN = _hook(
    "Petunjuk perubahan dari plugin redmine_webhook",
    "Plugin redmine_webhook tidak dapat menandatangani, jadi rahasia `[webhooks] "
    "redmine_secret` menjadi bagian URL. Hanya `payload.issue.id` yang dipakai; isu dibaca "
    "ulang lewat REST. Rahasia salah dijawab 401.", [],
    {"accepted": True, "issue_id": 42, "duplicate": False},
    **{"x-autentikasi": "rahasia `[webhooks] redmine_secret` di URL"},
    parameters=[{"name": "secret", "in": "path", "required": True,
                 "description": "Rahasia `[webhooks] redmine_secret`",
                 "schema": {"type": "string"}}])
REDMINE_NATIVE = _hook(
    "Webhook bawaan Redmine 7",
    "Ditandatangani dengan `X-Redmine-Signature-256`. Peristiwa `issue.created` dan "
    "`issue.updated` dengan `data.issue.id` menjadi tugas `sync_issue`.",
    [{"redmineSignature": []}], {"accepted": True, "issue_id": 42, "duplicate": False})
GITLAB = _hook(
    "Webhook proyek GitLab",
    "Push, merge request, wiki, pipeline, tag dan rilis dicatat sebagai catatan kemajuan "
    "langkah 12. Dengan token biasa header `X-Gitlab-Token` diperiksa; dengan token "
    "`whsec_...` tanda tangan Standard Webhooks bila dikirim, atau `X-Gitlab-Token` (dengan "
    "`[gitlab] signed_webhooks = true` hanya tanda tangan). Header `X-Gitlab-Event` menyebut "
    "jenis peristiwa.", [{"gitlabToken": []}, {"standardWebhooks": []}],
    {"accepted": True, "kind": "push", "duplicate": False},
    parameters=[{"name": "X-Gitlab-Event", "in": "header", "required": False,
                 "description": "Jenis peristiwa GitLab, misalnya `Push Hook`",
                 "schema": {"type": "string"}}])

PATHS: dict[str, dict[str, Operation]] = {
    "/webhooks/intake": {"post": INTAKE},
    "/webhooks/redmine/{secret}": {"post": REDMINE_PLUGIN},
    "/webhooks/redmine": {"post": REDMINE_NATIVE},
    "/webhooks/gitlab": {"post": GITLAB},
    "/api/cases/{case_id}": {"get": {
        "summary": "Status dan riwayat satu kasus",
        "description": "Alamat `status_url` dari jawaban intake; memakai token intake OPD "
                       "dan hanya menampilkan kasus OPD itu (kasus OPD lain: 404).",
        "tags": ["API"], "security": [{"intakeToken": []}], "parameters": [CASE_ID],
        "responses": {"200": _json(s.CASE, "Kasus, langkah-langkahnya dan riwayatnya",
                                   s.CASE_EXAMPLE),
                      "401": R401, "404": R404, "429": R429, "503": R503}}},
    "/api/cases": {"get": {
        "summary": "Daftar kasus (data yang sama dengan dasbor)",
        "description": "Kasus yang cocok dengan saringan, yang paling mendesak dulu, beserta "
                       "sisa hari kerja langkahnya.",
        "tags": ["API"], "security": [{"dashboardToken": []}, {"dashboardSession": []}],
        "parameters": FILTERS,
        "responses": {"200": _json(s.CASE_LIST, "Kasus beserta sisa hari kerja",
                                   s.CASE_LIST_EXAMPLE),
                      "400": _error("Status tidak dikenal", "bad_request",
                                    "Status 'x' tidak dikenal; pilih salah satu: ..."),
                      "401": _error("Belum masuk atau token salah", "unauthorized",
                                    "Masuk dulu, atau kirim token akses.", WWW_AUTHENTICATE),
                      "503": R503}}},
    "/api/redmine/issues/{issue_id}/panel": {"get": {
        "summary": "Data panel SOP pada halaman masalah Redmine",
        "description": "Dipanggil plugin Redmine `sop_connector` (batas waktu pendek, jawaban "
                       "disimpan sebentar): langkah aktif kasus, pemegangnya, batas waktu dan "
                       "sisa hari kerja, putaran, dokumen yang diharapkan, tautan dasbor; pada "
                       "subtugas langkah, apa yang terjadi bila langkah itu diselesaikan.",
        "tags": ["API"], "security": [{"pluginSecret": []}], "parameters": [ISSUE_ID],
        "responses": {"200": _json(s.PANEL, "Data panel", s.PANEL_EXAMPLE),
                      "401": R401,
                      "404": _error("Masalah bukan bagian dari kasus SOP", "not_found",
                                    "Masalah 42 bukan bagian dari kasus SOP."),
                      "503": R503}}},
    "/healthz": {"get": {
        "summary": "Kesehatan penyimpanan dan antrean",
        "description": "Untuk pemantauan: jumlah tugas per status dan umur tugas tertunda "
                       "tertua; bila GitLab dipakai, juga webhook GitLab yang dimatikan.",
        "tags": ["Layanan"], "security": [],
        "responses": {"200": _json(s.HEALTH, "Sehat", s.HEALTH_EXAMPLE),
                      "503": _json(s.UNHEALTHY, "Penyimpanan tidak tersedia",
                                   {"status": "error", "store": "unavailable"})}}},
    "/openapi.json": {"get": {
        "summary": "Deskripsi OpenAPI ini", "tags": ["Layanan"], "security": [],
        "responses": {"200": _json({"type": "object", "required": ["openapi", "paths"]},
                                   "OpenAPI 3.1")}}},
    "/dashboard": {"get": _page("Dasbor: daftar kasus",
                                "Kasus yang cocok dengan saringan (bawaan: yang terbuka).",
                                parameters=FILTERS)},
    "/dashboard/cases/{case_id}": {"get": {
        **_page("Dasbor: satu kasus", "Posisi kasus dan lini masanya, rencana dan kenyataan.",
                parameters=[CASE_ID]),
        "responses": {"200": _html("Halaman HTML"), "302": TO_SIGN_IN,
                      "404": {"description": "Kasus tidak ditemukan (halaman HTML); nomor yang "
                              "bukan bilangan bulat 64-bit: galat JSON",
                              "content": {s.HTML: {"schema": {"type": "string"}},
                                          s.JSON: {"schema": s.ERROR}}},
                      "503": R503}}},
    "/dashboard/recap": {"get": {
        **_page("Dasbor: rekap bulanan", "Rekap per langkah SOP, tabel dan grafik; hanya "
                "untuk yang melihat semua OPD.", parameters=[MONTH]),
        "responses": {"200": _html("Halaman HTML"), "302": TO_SIGN_IN,
                      "400": _html("Bulan salah; halaman galat"), "403": STAFF_ONLY,
                      "503": R503}}},
    "/dashboard/recap.csv": {"get": {
        **_page("Dasbor: rekap bulanan sebagai CSV", "Berkas `rekap-sop-YYYY-MM.csv`.",
                parameters=[MONTH]),
        "responses": {"200": {"description": "Berkas CSV", "content": {
            "text/csv": {"schema": {"type": "string"}}}},
            "302": TO_SIGN_IN, "400": _html("Bulan salah; halaman galat"), "403": STAFF_ONLY,
            "503": R503}}},
    "/dashboard/dashboard.css": {"get": {
        "summary": "Lembar gaya dasbor", "tags": ["Dasbor"], "security": [],
        "responses": {"200": {"description": "CSS", "content": {
            "text/css": {"schema": {"type": "string"}}}}}}},
    "/dashboard/masuk": {
        "get": {"summary": "Formulir masuk dasbor",
                "description": "Token akses hanya diterima lewat formulir (POST), tidak "
                               "pernah di URL: `?token=` dijawab 400 tanpa masuk.",
                "tags": ["Dasbor"], "security": [],
                "parameters": [{"name": "next", "in": "query", "schema": {"type": "string"},
                                "description": "Halaman dasbor tujuan"},
                               {"name": "token", "in": "query", "schema": {"type": "string"},
                                "description": "Tidak diterima (jawaban 400)"}],
                "responses": {"200": _html("Formulir masuk"),
                              "302": {**REDIRECT, "description": "Sudah masuk: dialihkan "
                                      "ke dasbor"},
                              "400": _html("Token di URL ditolak"), "429": R429_PAGE}},
        "post": {"summary": "Masuk dasbor dengan akun Redmine atau token akses",
                 "description": "Kata sandi hanya diteruskan ke Redmine "
                                "(`GET /users/current.json`), tidak pernah disimpan. Formulir "
                                "wajib membawa `csrf` dari formulir masuk sesi yang sama. "
                                "Akun Redmine hanya diterima bila memegang peran SOP, anggota "
                                "proyek SOP, atau tim teknis OPD.",
                 "tags": ["Dasbor"], "security": [],
                 "requestBody": {"required": True, "content": {
                     "application/x-www-form-urlencoded": {"schema": s.SIGN_IN_FORM}}},
                 "responses": {"302": {**REDIRECT, "description": "Masuk; dialihkan ke "
                                       "dasbor"},
                               "400": _html("Login atau kata sandi kosong"),
                               "403": _html("Ditolak: akun atau token salah, akun tanpa hak "
                                            "atas dasbor, token CSRF salah, atau masuk "
                                            "dengan akun Redmine tidak diaktifkan"),
                               "413": R413, "429": R429_PAGE,
                               "503": _html("Redmine tidak dapat dihubungi")}}},
    "/dashboard/keluar": {"post": {
        "summary": "Keluar dari dasbor",
        "description": "Sesi dicatat keluar di penyimpanan: cookie lamanya tidak berlaku "
                       "lagi. Formulir wajib membawa `csrf` sesi.",
        "tags": ["Dasbor"], "security": [],
        "requestBody": {"content": {"application/x-www-form-urlencoded": {
            "schema": s.SIGN_OUT_FORM}}},
        "responses": {"302": {**REDIRECT, "description": "Keluar; dialihkan ke formulir "
                              "masuk"},
                      "403": _html("Token CSRF salah atau tidak ada; tetap masuk"),
                      "413": R413}}},
    "/dashboard/tandatangan": {"get": {
        **_page("Dasbor: antrean tanda tangan", "Dokumen yang menunggu tanda tangan "
                "elektronik; blok milik login yang masuk ditandai dan didahulukan."),
        "responses": {"200": _html("Halaman HTML"), "302": TO_SIGN_IN, "503": R503}}},
    "/dashboard/tandatangan/{token}": {
        "get": {**_page("Dasbor: blok tanda tangan sebuah dokumen",
                        "Setiap blok dan penanda tangannya; formulir passphrase untuk blok "
                        "milik login yang masuk.", parameters=[TOKEN]),
                "responses": {"200": _html("Halaman HTML"), "302": TO_SIGN_IN,
                              "404": _html("Dokumen tidak ditemukan"), "503": R503}},
        "post": {**_page("Dasbor: tandatangani satu blok",
                         "Passphrase (atau TOTP BSrE) dipakai untuk satu permintaan ini "
                         "saja, tidak disimpan dan tidak dicatat. Berkas bertanda tangan "
                         "diperiksa sebelum disimpan; bila ditolak, tidak ada yang disimpan. "
                         "Formulir wajib membawa `csrf` sesi.", parameters=[TOKEN]),
                 "requestBody": {"required": True, "content": {
                     "application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "properties": {
                             "slot": {"type": "string", "description": "Blok tanda tangan"},
                             "passphrase": {"type": "string",
                                            "description": "Passphrase atau TOTP"},
                             "csrf": {"type": "string",
                                      "description": "Token CSRF dari halaman"}}}}}},
                 "responses": {"200": _html("Ditandatangani; halaman dokumen"),
                               "302": TO_SIGN_IN,
                               "400": _html("Passphrase kosong"),
                               "403": _html("Bukan blok login ini, atau token CSRF salah"),
                               "404": _html("Dokumen tidak ditemukan"), "413": R413,
                               "422": _html("Ditolak (passphrase salah, BSrE menolak, atau "
                                            "hasil tidak lolos verifikasi); tidak ada yang "
                                            "disimpan"),
                               "503": _html("Tanda tangan elektronik belum dikonfigurasi")}}},
    "/dashboard/tandatangan/{token}/totp": {"post": {
        **_page("Dasbor: minta TOTP dari BSrE",
                "Untuk `[signing] bsre_totp = true`: BSrE mengirim TOTP kepada penanda "
                "tangan blok `slot`. Formulir wajib membawa `csrf` sesi.", parameters=[TOKEN]),
        "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "properties": {
                    "slot": {"type": "string", "description": "Blok tanda tangan"},
                    "csrf": {"type": "string", "description": "Token CSRF dari halaman"}}}}}},
        "responses": {"200": _html("TOTP diminta; halaman dokumen"), "302": TO_SIGN_IN,
                      "400": _html("TOTP tidak dipakai dalam konfigurasi ini"),
                      "403": _html("Bukan blok login ini, atau token CSRF salah"),
                      "404": _html("Dokumen tidak ditemukan"), "413": R413,
                      "422": _html("BSrE menolak (mis. NIK tidak terdaftar)"),
                      "503": R503}}},
    "/verifikasi/{token}": {
        "get": {"summary": "Verifikasi dokumen (publik)",
                "description": "Hanya jenis, nomor, tanggal, para pihak, SHA-256, dan siapa "
                               "menandatangani kapan. Token tak dikenal dijawab 404 tanpa "
                               "keterangan apa pun tentang token lain.",
                "tags": ["Verifikasi"], "security": [], "parameters": [TOKEN],
                "responses": {"200": _html("Halaman verifikasi"),
                              "404": _html("Dokumen tidak ditemukan"), "503": R503}},
        "post": {"summary": "Periksa apakah sebuah PDF tepat dokumen yang diterbitkan",
                 "description": "SHA-256 berkas `berkas` dibandingkan dengan setiap versi "
                                "dokumen yang diterbitkan (sebelum dan sesudah tiap tanda "
                                "tangan); berkas tidak disimpan.",
                 "tags": ["Verifikasi"], "security": [], "parameters": [TOKEN],
                 "requestBody": {"required": True, "content": {"multipart/form-data": {
                     "schema": {"type": "object", "properties": {
                         "berkas": {"type": "string", "format": "binary"}}}}}},
                 "responses": {"200": _html("Hasil: cocok atau tidak cocok"),
                               "400": _html("Tidak ada berkas, atau berkas kosong"),
                               "404": _html("Dokumen tidak ditemukan"), "413": R413,
                               "503": R503}}},
}

SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "sop-connector", "version": __version__,
             "description": "Layanan Permohonan Pembuatan Aplikasi Diskominfo Kabupaten "
                            "Sumbawa (SOP 555/568/DKIST/2021): menerima surat OPD dan "
                            "petunjuk perubahan dari Redmine dan GitLab, serta menampilkan "
                            "kasus."},
    "components": {"securitySchemes": {**s.SECURITY_SCHEMES,
                                       "pluginSecret": s.PLUGIN_SECRET_SCHEME}},
    "paths": PATHS,
}


@blueprint.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 description."""
    return jsonify(SPEC)

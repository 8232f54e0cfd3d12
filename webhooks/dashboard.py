"""The dashboard: open cases, a case's timeline, the monthly recap, and ``GET /api/cases``.

Server-rendered HTML in Bahasa Indonesia, one stylesheet and inline SVG, no script: it reads
the local store only (``connector.reporting``), so it stays fast and up while Redmine is
slow or down. Every route but the stylesheet needs a sign-in (``webhooks.auth``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request, send_from_directory, url_for
from markupsafe import Markup

from connector.rendering import templates_dir
from connector.reporting.cases import CaseSummary, case_summaries, case_timeline, known_opds
from connector.reporting.recap import (
    ReportError,
    StepRecap,
    month_label,
    monthly_recap,
    recap_csv,
    recap_svg,
)
from connector.store.schema import CaseStatus
from webhooks import auth
from webhooks.access import Scope
from webhooks.auth import (
    current_login,
    current_scope,
    page_requires_sign_in,
    render_page,
    token_matches,
)
from webhooks.cases_api import CASE_ID
from webhooks.context import services

blueprint = Blueprint("dashboard", __name__)
blueprint.register_blueprint(auth.blueprint)
ALL = "semua"
STATUSES = {s.value: s for s in CaseStatus}
RECAP_STAFF_ONLY = ("Rekap bulanan mencakup kasus semua OPD dan hanya untuk pegawai "
                    "Diskominfo; tim teknis OPD melihat kasus OPD-nya di daftar kasus.")
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class Filters:
    """The list's query string: ``opd`` (code, empty for all) and ``status`` (or ``semua``)."""

    opd: str
    status: str

    @classmethod
    def parse(cls, args: Any) -> Filters | str:
        """The filters, or a message for an unknown status."""
        status = args.get("status", CaseStatus.OPEN.value).strip().lower() or ALL
        if status != ALL and status not in STATUSES:
            return f"Status {status!r} tidak dikenal; pilih salah satu: " \
                   f"{', '.join([*STATUSES, ALL])}."
        return cls(args.get("opd", "").strip().upper(), status)

    def summaries(self, today: date, scope: Scope) -> list[CaseSummary]:
        """The matching cases among those ``scope`` sees."""
        s = services()
        found = case_summaries(s.engine, s.sop, s.calendar, today, opd=self.opd or None,
                               status=STATUSES.get(self.status))
        return [c for c in found if scope.allows(c.opd)]


def _scope() -> Scope:
    """The signed-in session's scope (pages run only once signed in)."""
    return current_scope() or Scope(frozenset())


@dataclass(frozen=True)
class Chart:
    """The timeline chart's calendar-day scale: its first day, its length, weekly ticks."""

    start: date
    days: int
    ticks: tuple[tuple[int, date], ...]

    @classmethod
    def of(cls, start: date, last: date) -> Chart:
        days = (last - start).days + 1
        return cls(start, days, tuple((i, start + timedelta(days=i)) for i in range(0, days, 7)))

    def day(self, when: date) -> int:
        """Days from the chart's first day to ``when``."""
        return (when - self.start).days


@blueprint.after_request
def _protect(response: Response) -> Response:
    """No framing, no sniffing, no caching of case data, nothing loaded from elsewhere."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "dashboard.stylesheet":
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/dashboard/dashboard.css")
def stylesheet() -> Response:
    """The one stylesheet (public: it holds no data, and the sign-in page needs it)."""
    return send_from_directory(templates_dir() / "dashboard", "dashboard.css",
                               mimetype="text/css", max_age=3600)


@blueprint.get("/dashboard")
@page_requires_sign_in
def case_list() -> Any:
    """Every case matching the filters (open ones by default), most urgent first."""
    filters = Filters.parse(request.args)
    if isinstance(filters, str):
        return render_page("error.html", 400, message=filters)
    s, scope = services(), _scope()
    agencies = {code: a.name for code, a in s.settings.opd.agencies.items()}
    opds = sorted(o for o in set(agencies) | set(known_opds(s.engine)) if scope.allows(o))
    return render_page("cases.html", cases=filters.summaries(s.today(), scope), filters=filters,
                       opds=opds, agencies=agencies, statuses=[*STATUSES, ALL])


@blueprint.get(f"/dashboard/cases/{CASE_ID}")
@page_requires_sign_in
def case_page(case_id: int) -> Any:
    """One case: where it stands and its timeline, planned against actual."""
    s = services()
    timeline = case_timeline(s.engine, s.sop, s.calendar, case_id)
    today = s.today()
    found = case_summaries(s.engine, s.sop, s.calendar, today, case_id=case_id) \
        if timeline is not None else []
    if timeline is None or not found or not _scope().allows(found[0].opd):
        return render_page("error.html", 404, message=f"Kasus {case_id} tidak ditemukan.")
    [summary] = found
    agency = s.settings.opd.agencies.get(summary.opd)
    return render_page("case.html", case=summary, timeline=timeline, today=today,
                       chart=Chart.of(timeline.start, timeline.last_day(today)),
                       opd_name=agency.name if agency else summary.opd,
                       redmine_url=s.settings.redmine.url)


def _month_recap() -> tuple[str, list[StepRecap] | None]:
    """The asked month (default: this month) and its recap, or the error and None."""
    if _scope().opds is not None:  # the recap counts every OPD's cases
        return RECAP_STAFF_ONLY, None
    s = services()
    month = request.args.get("month") or s.today().strftime("%Y-%m")
    try:
        return month, monthly_recap(s.engine, s.sop, s.calendar, month)
    except ReportError as exc:
        return str(exc), None


@blueprint.get("/dashboard/recap")
@page_requires_sign_in
def recap_page() -> Any:
    """The month's recap per step, as a table and a chart (default: this month)."""
    month, recaps = _month_recap()
    if recaps is None:
        return render_page("error.html", 403 if month == RECAP_STAFF_ONLY else 400,
                           message=month)
    chart = Markup(recap_svg(month, recaps))  # recap_svg escapes every text it writes
    return render_page("recap.html", month=month, label=month_label(month), recaps=recaps,
                       chart=chart)


@blueprint.get("/dashboard/recap.csv")
@page_requires_sign_in
def recap_download() -> Any:
    """The month's recap as a CSV file."""
    month, recaps = _month_recap()
    if recaps is None:
        return render_page("error.html", 403 if month == RECAP_STAFF_ONLY else 400,
                           message=month)
    return Response(recap_csv(month, recaps), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="rekap-sop-{month}.csv"'})


@blueprint.get("/api/cases")
def list_cases() -> Any:
    """The dashboard's list as JSON; a signed-in session or ``Authorization: Bearer``."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token_matches(given):
        scope = Scope(None)
    elif current_login() is not None:
        scope = _scope()
    else:
        body = {"error": "unauthorized", "message": "Masuk dulu, atau kirim token akses."}
        return jsonify(body), 401, {"WWW-Authenticate": 'Bearer realm="sop-connector"'}
    filters = Filters.parse(request.args)
    if isinstance(filters, str):
        return jsonify({"error": "bad_request", "message": filters}), 400
    summaries = filters.summaries(services().today(), scope)
    return jsonify({"filters": {"opd": filters.opd or None, "status": filters.status},
                    "cases": [_as_json(c) for c in summaries]})


def _as_json(c: CaseSummary) -> dict[str, Any]:
    return {
        "id": c.id, "opd": c.opd, "nama_aplikasi": c.nama_aplikasi,
        "nomor_surat": c.nomor_surat, "status": c.status.value,
        "current_step": c.current_step, "step_title": c.step_title, "role": c.role,
        "holder": c.holder, "started_on": _iso(c.started_on), "due_on": _iso(c.due_on),
        "hari_kerja_left": c.left, "overdue": c.overdue,
        "development": {"used": c.development_used, "limit": c.development_limit,
                        "left": c.development_left},
        "replans": c.replans, "reworks": c.reworks, "redmine_issue_id": c.redmine_issue_id,
        "url": url_for("dashboard.case_page", case_id=c.id, _external=True),
    }


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None

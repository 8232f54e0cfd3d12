"""Against the real Redmine: the Kasi records each team member's function at step 4 in the
"Tim: <fungsi>" fields (the SOP's Kualifikasi Pelaksana), and the Berita Acara lists the team
by name and function."""

from __future__ import annotations

import io

import pytest
import requests
from docx import Document

from connector.store import audit
from connector.store.schema import CaseStatus
from tests.test_redmine_documents import driver as driver  # the fixture: a case with [documents]
from tests.workflow_driver import CaseDriver

pytestmark = pytest.mark.redmine




def _close_4_with_functions(driver: CaseDriver, functions: dict[str, tuple[str, ...]]) -> None:
    """The Kasi picks the members in the function fields only (Tim Pengembang left empty)."""
    fields = [{"id": driver.field_id(f"Tim: {fungsi}"),
               "value": [driver.user_id(login) for login in logins]}
              for fungsi, logins in functions.items()]
    driver.api("kasi").issue.update(driver.step_issue(4), status_id=driver.status_id("Closed"),
                                    notes="", custom_fields=fields)
    driver.sync(4)


def _berita_acara_text(driver: CaseDriver) -> str:
    parent = driver.api("admin").issue.get(driver.case().redmine_issue_id,
                                           include=["attachments"])
    [docx] = [a for a in parent.attachments
              if a.filename.startswith("berita-acara-") and a.filename.endswith(".docx")]
    content = requests.get(docx.content_url, timeout=30,
                           headers={"X-Redmine-API-Key": driver.server.admin_key}).content
    document = Document(io.BytesIO(content))
    cells = [" | ".join(c.text.strip() for c in row.cells)
             for table in document.tables for row in table.rows]
    footer = [p.text for p in document.sections[0].footer.paragraphs]
    return "\n".join([p.text for p in document.paragraphs] + cells + footer)


def test_functions_recorded_at_step_4_reach_the_berita_acara(driver: CaseDriver) -> None:
    driver.open()
    driver.walk([2, 3])
    _close_4_with_functions(driver, {"IT Project Manager": ("dev1",),
                                     "Programmer": ("dev1", "dev2")})
    assert driver.case().current_step == 5
    with driver.services.engine.connect() as conn:
        [team] = [e.detail for e in audit.list_audit(conn, driver.case().id)
                  if e.action == "team_recorded"]
    assert team is not None and team["logins"] == ["dev1", "dev2"]
    assert team["functions"] == {"dev1": ["IT Project Manager", "Programmer"],
                                 "dev2": ["Programmer"]}
    driver.walk([5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16])
    if driver.case().current_step == 17:  # step 17 is the team's to close without automation
        driver.walk([17])
    assert driver.case().status is CaseStatus.CLOSED
    text = _berita_acara_text(driver)
    assert "Pengembang Satu | IT Project Manager, Programmer" in text
    assert f"SOP Nomor {driver.services.sop.nomor}" in text  # the reference line (footer)

"""Facts about a case read back from its audit trail, for the documents it ends with."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from connector.store.audit import AuditEntry


@dataclass(frozen=True)
class CaseFacts:
    """Dates and notes the Berita Acara and the refusal documents quote."""

    completions: dict[int, list[tuple[date, str, str]]]  # step -> (on, outcome, note)
    activations: dict[int, list[date]]  # step -> start dates
    names: dict[str, str] = field(default_factory=dict)  # team login -> name (step 4)
    functions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # login -> fungsi
    findings: dict[int, tuple[str, ...]] = field(default_factory=dict)  # step -> last "tidak"

    def completed(self, step: int, outcome: str | None = None) -> list[date]:
        """The dates ``step`` was completed (with that outcome)."""
        return [on for on, out, _ in self.completions.get(step, [])
                if outcome is None or out == outcome]

    def last_note(self, step: int) -> str:
        """The note of the step's last completion (the Kabid's reason at step 6)."""
        found = self.completions.get(step, [])
        return found[-1][2] if found else ""

    def last_findings(self, step: int) -> tuple[str, ...]:
        """What the step's last completion found missing (step 6 *tidak*), as chosen.

        Empty for a completion recorded before the Temuan Verifikasi field existed.
        """
        return self.findings.get(step, ())


def case_facts(trail: list[AuditEntry]) -> CaseFacts:
    """Collect completion and activation dates, and the team's names and functions, from a
    case's trail."""
    completions: dict[int, list[tuple[date, str, str]]] = {}
    activations: dict[int, list[date]] = {}
    names: dict[str, str] = {}
    functions: dict[str, tuple[str, ...]] = {}
    findings: dict[int, tuple[str, ...]] = {}
    for entry in trail:
        detail = entry.detail or {}
        if entry.action == "step_completed" and entry.step_from is not None and "on" in detail:
            completions.setdefault(entry.step_from, []).append(
                (date.fromisoformat(detail["on"]), str(detail.get("outcome", "")),
                 str(detail.get("note", ""))))
            findings[entry.step_from] = tuple(str(f) for f in detail.get("findings", ()))
        elif entry.action == "step_activated" and entry.step_to is not None:
            activations.setdefault(entry.step_to, []).append(date.fromisoformat(detail["start"]))
        elif entry.action == "team_recorded":
            logins = [str(x) for x in detail.get("logins", ())]
            names |= dict(zip(logins, (str(n) for n in detail.get("names", logins)),
                              strict=False))
            # The latest recording holds; one from before functions were recorded has none.
            functions = {str(login): tuple(str(f) for f in found)
                         for login, found in (detail.get("functions") or {}).items()}
    return CaseFacts(completions, activations, names, functions, findings)


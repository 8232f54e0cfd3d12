"""Draw the SOP as a Mermaid flowchart, generated from the data alone."""

from __future__ import annotations

from connector.sop.model import Sop, Step


def mermaid(sop: Sop) -> str:
    """A Mermaid ``flowchart TD`` of every step and branch, stable for a given SOP."""
    lines = ["flowchart TD"]
    lines.extend(f"    {_node(step)}" for step in sop.steps)
    for step in sop.steps:
        if step.decision is not None:
            lines.append(f"    S{step.number} -- ya --> S{step.decision.ya}")
            lines.append(f"    S{step.number} -- tidak --> S{step.decision.tidak}")
        elif step.next is not None:
            lines.append(f"    S{step.number} --> S{step.next}")
    return "\n".join(lines) + "\n"


def _node(step: Step) -> str:
    label = f"{step.number}. {step.title}<br/><i>{step.role.label}</i>"
    if step.time is not None:
        label += f"<br/>⏱ {step.time.label}"
    label = label.replace('"', "#quot;")
    if step.decision is not None:
        return f'S{step.number}{{"{label}"}}'
    if step.is_terminal or step.number == 1:
        return f'S{step.number}(["{label}"])'
    return f'S{step.number}["{label}"]'

"""Creating a case's project: a name GitLab accepts, and a fallback when it refuses one.

GitLab validates a project's ``name`` (``project_name_regex``) and ``path`` and answers
``400 {"message": {"name": [...]}}`` or ``{"message": {"path": ["has already been taken"]}}``
(Projects API, "Create a project"). A refusal of the name is retried once with the path as
the name (ASCII letters, digits and dashes: always valid, and unique in the group like the
path); a path taken meanwhile (or reserved) moves to the next free candidate. Only when
GitLab still refuses does ``ProjectRefused`` carry GitLab's own words and what the Kasi can
do to the Redmine note of step 8.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gitlab.exceptions import GitlabCreateError
from gitlab.v4.objects import Project

from connector.codehost import ProjectRefused

MAX_PATH_TRIES = 3


def create(create_call: Callable[[dict[str, Any]], Project], base: dict[str, Any],
           name_for: Callable[[str], str], paths: Iterable[str], group: str,
           case_key: str) -> Project:
    """``create_call(base | name | path)``, trying the next name or path on a 400 for it."""
    said = "tidak ada jalur yang bebas"
    for path in list(paths)[:MAX_PATH_TRIES]:
        for name in dict.fromkeys((name_for(path), path)):
            try:
                return create_call({**base, "name": name, "path": path})
            except GitlabCreateError as exc:
                if exc.response_code != 400:
                    raise
                fields = refused_fields(exc.error_message)
                said = gitlab_said(exc.error_message)
                if "path" in fields or not fields:
                    break  # the next path (names do not help a refused path)
    raise ProjectRefused(group, said, case_key)


def refused_fields(message: object) -> set[str]:
    """The fields GitLab names in ``{"message": {field: [...]}}``; none for a plain text."""
    return {str(key) for key in message} if isinstance(message, dict) else set()


def gitlab_said(message: object) -> str:
    """GitLab's error body as one line: ``name can contain only ...; path has already ...``."""
    if isinstance(message, dict):
        return "; ".join(f"{key} {' '.join(map(str, v)) if isinstance(v, list) else v}"
                         for key, v in message.items())
    return str(message)

"""A real Redmine for tests: the library's one wrapper of ``scripts/redmine-test-server``.

The names the tests use for ``connector.redmine.local_server``'s: ``start_redmine_server()``
returns a ``RedmineServer`` (see there for ``stop``, ``start_again`` and ``destroy``).
"""

from __future__ import annotations

from connector.redmine.local_server import LocalRedmine as RedmineServer
from connector.redmine.local_server import RedmineStartError as RedmineServerError
from connector.redmine.local_server import cannot_start_reason
from connector.redmine.local_server import start_local_redmine as start_redmine_server

__all__ = ["RedmineServer", "RedmineServerError", "cannot_start_reason", "start_redmine_server"]

"""Access to the services from a view."""

from __future__ import annotations

from flask import current_app

from connector.services import Services


def services() -> Services:
    """The services the app was created with."""
    found: Services = current_app.extensions["sop_services"]
    return found

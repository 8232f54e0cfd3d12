"""The Flask layer: thin views that verify, parse, store and answer."""

from webhooks.app import create_app

__all__ = ["create_app"]

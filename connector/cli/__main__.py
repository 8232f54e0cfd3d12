"""``python -m connector.cli``: the same as the ``sop-connector`` command."""

from connector.cli import main

main()

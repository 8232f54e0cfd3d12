"""A bare Flask endpoint under the same waitress settings as ``sop-connector serve``.

It reads the body and answers 202 with a small JSON object, storing nothing: the cost of the
web server and Flask alone. Run: ``python benchmarks/bare_app.py PORT``.
"""

from __future__ import annotations

import sys

from flask import Flask, jsonify, request
from waitress import serve

from connector.config.settings import ServerSettings

app = Flask("bare")


@app.post("/webhooks/intake")
def intake() -> object:
    body = request.get_data()
    return jsonify({"received": len(body)}), 202


if __name__ == "__main__":
    # The same waitress options as webhooks/serve.py (``sop-connector serve``) with the
    # default ``[server]`` settings: threads, connection limit, timeouts, size limits.
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), url_scheme="http", ident="bare",
          **ServerSettings().waitress_options())

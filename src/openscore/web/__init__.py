"""The subject portal and the operator console: server-rendered pages on the API's app.

``install(app)`` mounts them on the app :func:`openscore.api.create_api` made;
:func:`openscore.server.create_app` does both::

    from openscore.server import create_app

    app = create_app(settings)

Pages are Jinja2 templates (``templates/``), charts are SVG drawn on the server
(``charts.py``), and the little script there is (``static/app.js``) only enhances forms
that work without it. Nothing is loaded from another host. ``docs/web.md`` describes the
pages, the operator's log-in and the tests.
"""

from __future__ import annotations

from openscore.web.mount import install

__all__ = ["install"]

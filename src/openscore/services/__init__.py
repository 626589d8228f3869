"""The behaviour behind the API and the web pages, one module per resource.

Both ``api/routes`` (JSON) and ``web/routes`` (HTML) are thin callers of these functions:
they read the request, call a service with plain arguments, and present its answer. A
service takes a :class:`~openscore.services.context.Context` (the registry's read and
write transactions, the ledger, the settings, the catalogue: what ``AppState`` holds) and
raises the project's errors (:mod:`openscore.errors`), never an HTTP answer. Nothing here
imports ``openscore.api`` or ``openscore.web`` (``tests/test_layers.py`` holds that).

Answers are the public shapes of :mod:`openscore.services.schemas`, built by
:mod:`openscore.services.presenters`: the portal renders the same shapes the API returns.
"""

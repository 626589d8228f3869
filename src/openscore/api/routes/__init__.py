"""Routers, one module per resource, grouped by audience: ``subjects/`` (a scored person
with a session cookie), ``partners/`` (an API key of role partner), ``operators/`` (an API
key of role operator); ``health`` and ``catalogue`` are public."""

"""Partners' routes (``Authorization: Bearer`` with a key of role partner)."""

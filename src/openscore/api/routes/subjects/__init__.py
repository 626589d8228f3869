"""The scored person's routes (session cookie; CSRF token on unsafe methods)."""

"""Operators' routes under ``/v1/operator`` (a key of role operator)."""

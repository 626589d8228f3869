"""openscore."""

"""Converters that bring public credit datasets through the same door as furnishers."""

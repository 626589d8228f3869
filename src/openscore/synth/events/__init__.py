"""Event generators, one module per source. Each takes a ``Chunk`` and returns tables
in the event file schema, rows in person order, only for people who share the source."""

"""Ledger event files as Parquet: the columns (``columns.py``) and the staged, checksummed
writer (``writer.py``) shared by the synthetic world (``synth``) and the converters of
public datasets (``convert``)."""

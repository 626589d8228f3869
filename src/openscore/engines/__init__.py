"""Backend connections. Engine-specific code lives here and nowhere else."""

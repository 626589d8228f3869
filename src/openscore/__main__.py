"""``python -m openscore`` runs the CLI."""

from openscore.cli import main

if __name__ == "__main__":
    main()

"""The package version, in one place: pyproject.toml and the provider read it from here."""

__version__ = "0.1.0"

"""Tierline: tiered call routing and IVR for Asterisk contact centres."""

# The one version string: pyproject.toml reads it from here (hatch dynamic version).
__version__ = "0.1.0"
__all__ = ["__version__"]

"""Tierline: tiered call routing and IVR for Asterisk contact centres."""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""Capacity simulator: the live flow engine and routing policy under SimPy."""

__all__: list[str] = []

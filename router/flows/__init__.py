"""Operator IVR flows: YAML compiled once into frozen objects, walked by a pure engine."""

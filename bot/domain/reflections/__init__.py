"""Reflections."""

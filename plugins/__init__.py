"""Plugins bundled with Order Panel: the default behaviour, written with the same hooks."""

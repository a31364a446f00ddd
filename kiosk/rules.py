"""Signing the site rules at the kiosk (being built)."""

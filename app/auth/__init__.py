"""Signing in and out, the user's landing page and language (blueprint "auth")."""

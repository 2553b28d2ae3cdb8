"""Adapters: the application's ports implemented by technology (SQLAlchemy, HTTP, SMTP, files)."""

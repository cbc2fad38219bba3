"""Reflex pages: public status pages and the admin console (thin callers of statusapp.domain)."""

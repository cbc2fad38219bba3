"""statusapp: self-hosted status pages with live updates."""

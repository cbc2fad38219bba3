"""Admin console: every handler checks the session on the server before doing anything."""

"""Read models: `public` (status pages, and the JSON API) and `admin` (the console)."""

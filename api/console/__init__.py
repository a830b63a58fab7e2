"""The agent console: server-rendered pages at /console over the same auth and code paths as the API."""

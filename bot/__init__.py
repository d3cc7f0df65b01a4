"""motcua runtime: configuration, dispatcher, channels and the HTTP server."""

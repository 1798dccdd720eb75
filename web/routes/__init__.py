"""Page and API routers of the console, one module per area."""

"""The HTTP sidecar (aiohttp): login, logout, health, the admin API and the local file routes."""

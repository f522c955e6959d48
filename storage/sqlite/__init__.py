"""The embedded storage adapter: one SQLite file in WAL mode, shared safely by several processes."""

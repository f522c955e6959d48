"""Several nodes as one server: the Redis bus, its key layout and the guarded Redis link."""

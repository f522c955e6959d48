"""Errors the storage adapters raise; handlers turn them into catalog errors."""


class StorageError(Exception):
    pass


class DuplicateError(StorageError):
    """A unique rule was broken (login, email or phone taken; private pair exists; ...)."""

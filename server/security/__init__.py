"""Passwords, tokens, generated secrets and failed-login limits."""

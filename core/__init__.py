"""Shared foundation: configuration, database, clock and actors."""

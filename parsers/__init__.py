"""Parsers for Skyline's app logs: pure functions from bytes to events, no I/O of their own."""

"""Lasting sessions: an opaque cookie naming a server-side session that holds the refresh token."""

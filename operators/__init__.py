"""The operators room: pure transforms on Arrow tables (no I/O, no Ray)."""

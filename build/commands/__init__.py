"""The command line: build, serve, new, status, models, merge-freeze."""

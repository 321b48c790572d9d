"""`python -m execblog ...`: the command line (see execblog.commands.cli)."""

from execblog.commands.cli import run

run()

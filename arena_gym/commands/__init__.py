"""Subcommands of the ``arena-gym`` command line."""

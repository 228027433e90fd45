"""Stasis: checkpoint/restore of Linux processes, writing CRIU-compatible images."""

__version__ = "0.1.0"

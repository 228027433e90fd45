"""Stasis: checkpoint/restore of Linux processes, writing CRIU-compatible images."""

"""The kernel's ABI as data: x86_64 syscall numbers (`nr`) and constants (`consts`), in one place.

Nothing here calls anything; every other layer takes its numbers from here.
"""

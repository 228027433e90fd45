"""A stopped task, seen from outside: freezing, registers, memory and injected syscalls.

Like CRIU's compel, this is a library of its own: it knows nothing of images or object kinds.
"""

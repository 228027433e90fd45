"""The image fuzzer: mutated images of real dumps fed to `stasis show` and `stasis restore`."""

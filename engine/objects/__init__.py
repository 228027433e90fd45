"""One module per kind of kernel object, each with `dump(ctx, task)` and `restore(ctx, task)`."""

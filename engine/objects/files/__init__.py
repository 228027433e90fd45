"""File descriptors: the generic fd table (table.py), the table of fd kinds (kinds.py), a module per kind."""

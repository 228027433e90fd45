"""The ZDTM harness is a pytest plugin; see zdtm/plugin.py."""

pytest_plugins = ["zdtm.plugin"]

"""The ZDTM harness: a pytest plugin that runs test programs through checkpoint/restore cycles."""

"""Generated protobuf modules (python -m engine.images.gen). Do not edit."""

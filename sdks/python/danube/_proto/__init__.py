"""Generated from proto/danube.proto by tools/generate_stubs.py: do not edit."""

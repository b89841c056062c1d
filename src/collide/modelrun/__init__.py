"""A model from its spec to its output rows: binding (`collide check`), executing, unit tests."""

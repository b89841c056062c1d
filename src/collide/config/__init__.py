"""Reading a project: collide.yaml, connectors and models, each into a typed spec (pydantic) with
the line of every key, collecting every problem instead of stopping at the first."""

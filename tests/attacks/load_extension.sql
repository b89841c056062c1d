-- attempts: LOAD an extension
LOAD httpfs

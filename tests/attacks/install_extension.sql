-- attempts: INSTALL an extension (network)
INSTALL httpfs

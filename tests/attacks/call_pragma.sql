-- attempts: CALL a pragma table function
CALL pragma_version()

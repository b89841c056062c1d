-- attempts: TABLE x with a file path
TABLE "{REJECTS}"

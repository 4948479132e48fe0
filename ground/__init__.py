"""Herald's ground floor: what every layer shares, importing nothing else of Herald.

errors, redaction, settings and the one Redis resolution, the keyspace, durations,
logging and process helpers. The layers above read one way: schemas -> producer ->
worker (the engine) -> herald (operations and the CLI); the sandbox stands on this
floor alone. `import-linter` checks it (pyproject.toml, `[tool.importlinter]`).
"""

"""Herald's top floor: the `herald` command line and the operations behind it.

`herald up`, `status`, `publish`, `dlq`, the demo and supervisord live here; they use
every layer below (ground, schemas, producer, worker) and nothing below imports them.
"""

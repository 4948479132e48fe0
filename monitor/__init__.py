"""Herald watches: `herald monitor` runs checks, pages on state changes, and posts the
health summary, publishing through the Publisher like any other producer."""

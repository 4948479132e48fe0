"""Herald: trading-system events to Discord.

This package holds what the other packages share (errors, redaction, config) and the
`herald` command line. Import-light on purpose: the producer imports `herald.errors`
on the trading hot path's start-up.
"""

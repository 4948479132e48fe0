"""The books: P&L, positions and recent trades kept from the event streams, and the reports.

A service beside the monitor: its own consumer group on the streams, so delivery and the
books never wait for each other.
"""

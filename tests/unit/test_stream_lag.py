"""The lane lag rule (worker/lanes.py) on edge cases a live engine meets: no stream yet,
and a stream created between the failed XINFO and the check that it is missing."""

import fakeredis
import pytest
import redis

from ground import keyspace
from worker.lanes import lane_lag, stream_groups

STREAM = keyspace.stream("normal")


class CreatedMeanwhile(fakeredis.FakeRedis):
    """XINFO fails once as on a missing stream, and a producer's XADD lands right after."""

    raced = False

    def xinfo_groups(self, name):  # type: ignore[no-untyped-def, override]
        if not self.raced:
            self.raced = True
            self.xadd(name, {"p": b"x"})
            raise redis.ResponseError("no such key")
        return super().xinfo_groups(name)


def test_no_stream_yet_has_no_lag():
    client = fakeredis.FakeRedis()
    assert stream_groups(client, STREAM) is None
    assert lane_lag(client, STREAM) == (0, 0, None)


def test_a_stream_created_meanwhile_is_read_not_an_error():
    assert stream_groups(CreatedMeanwhile(), STREAM) == []
    lag = lane_lag(CreatedMeanwhile(), STREAM)
    assert (lag.unread, lag.pending) == (1, 0)


def test_another_error_on_an_existing_stream_is_raised():
    client = fakeredis.FakeRedis()
    client.set(STREAM, "not a stream")
    with pytest.raises(redis.ResponseError):
        stream_groups(client, STREAM)

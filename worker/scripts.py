"""The engine's Lua scripts, assembled once: the shared functions, then the script, with
every key field and counter name filled in from the keyspace."""

from importlib.resources import files
from typing import Final

from ground import keyspace
from worker.dedupe import CLOSE_ALL
from worker.outbox import MAGIC


def _source(name: str) -> str:
    return files("worker").joinpath(name).read_text()


def _script(body: str) -> str:
    return keyspace.lua(
        _source("shared.lua"), body, OUTBOX_MAGIC=MAGIC.decode(), CLOSE_ALL=CLOSE_ALL
    )


COMMIT: Final = _script(_source("commit.lua"))
"""The dispatcher's atomic hand-on of a batch (commit.lua)."""
SETTLE: Final = _script(_source("settle.lua"))
"""The flush job's atomic settling of one request (settle.lua)."""
DEAD_LETTERS: Final = _script("""
-- KEYS: 1 DLQ hash, 2 DLQ index, 3 stats. ARGV: 1 now (ms), 2 channel state key prefix,
-- then (dead-letter id, record, channel or '') per entry.
for i = 3, #ARGV, 3 do
  local state = ARGV[i + 2] ~= '' and ARGV[2] .. ARGV[i + 2]
  dead_letter(KEYS[1], KEYS[2], KEYS[3], state, ARGV[i], ARGV[i + 1], ARGV[1])
end
return (#ARGV - 2) / 3
""")
"""Dead letters written outside a flush or dispatch (`DeadLetterQueue.add`)."""

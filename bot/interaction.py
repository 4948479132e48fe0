"""The part of Discord's interaction object Herald reads, decoded with msgspec.

Unknown fields are allowed (Discord adds them freely); what Herald relies on is typed,
so a malformed body fails at decode with a path rather than deep inside a handler.
"""

from enum import IntEnum
from typing import Any, Final

import msgspec

EPHEMERAL: Final = 64
"""Message flag: only the user who asked sees the reply."""


class InteractionType(IntEnum):
    PING = 1
    APPLICATION_COMMAND = 2
    MESSAGE_COMPONENT = 3
    AUTOCOMPLETE = 4
    MODAL_SUBMIT = 5


class ResponseType(IntEnum):
    PONG = 1
    MESSAGE = 4
    DEFERRED_MESSAGE = 5
    DEFERRED_UPDATE = 6
    UPDATE_MESSAGE = 7
    AUTOCOMPLETE_RESULT = 8


class OptionType(IntEnum):
    SUB_COMMAND = 1
    STRING = 3
    INTEGER = 4


class User(msgspec.Struct, frozen=True):
    id: str
    username: str = ""


class Member(msgspec.Struct, frozen=True):
    user: User | None = None
    roles: list[str] = msgspec.field(default_factory=list)


class CommandOption(msgspec.Struct, frozen=True):
    name: str
    type: int
    value: Any = None
    options: list["CommandOption"] = msgspec.field(default_factory=list)
    focused: bool = False


class Data(msgspec.Struct, frozen=True):
    name: str = ""
    options: list[CommandOption] = msgspec.field(default_factory=list)
    custom_id: str = ""
    component_type: int = 0


class Interaction(msgspec.Struct, frozen=True):
    id: str
    type: int
    application_id: str = ""
    token: str = ""
    data: Data | None = None
    member: Member | None = None
    user: User | None = None
    """Set instead of `member` in a DM (no roles there: control is refused)."""
    guild_id: str | None = None

    @property
    def user_id(self) -> str:
        who = self.member.user if self.member and self.member.user else self.user
        return who.id if who else ""

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(self.member.roles) if self.member else frozenset()

    def __repr__(self) -> str:  # the token is a credential for 15 minutes
        return f"Interaction(id={self.id!r}, type={self.type}, user={self.user_id!r})"


_decoder = msgspec.json.Decoder(Interaction)


def decode(body: bytes) -> Interaction:
    """Raises `msgspec.DecodeError` (with the path) for a body that is not an interaction."""
    return _decoder.decode(body)

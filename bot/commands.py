"""The one definition of Herald's slash commands: registered with Discord from here, and
every incoming command checked against it (names, option types, choices, ranges).

`!status` in the user's plan is `/status` here; prefix commands would need a gateway
connection and the privileged MESSAGE_CONTENT intent, slash commands need neither.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.interaction import CommandOption, OptionType

Value = str | int
STRING_MAX: Final = 100


class BadInput(Exception):
    """A command Herald does not know, or an option it cannot take: told to the user."""


@dataclass(frozen=True)
class Option:
    name: str
    description: str
    type: OptionType = OptionType.STRING
    required: bool = False
    choices: tuple[str, ...] = ()
    autocomplete: bool = False
    min_value: int | None = None
    max_value: int | None = None
    options: tuple["Option", ...] = ()
    """A sub-command's own options."""

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "description": self.description}
        body["type"] = int(self.type)
        if self.type == OptionType.SUB_COMMAND:
            body["options"] = [o.to_json() for o in self.options]
            return body
        body["required"] = self.required
        if self.choices:
            body["choices"] = [{"name": c, "value": c} for c in self.choices]
        if self.autocomplete:
            body["autocomplete"] = True
        if self.type == OptionType.STRING:
            body["max_length"] = STRING_MAX
        for key in ("min_value", "max_value"):
            if getattr(self, key) is not None:
                body[key] = getattr(self, key)
        return body


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    options: tuple[Option, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": 1,  # CHAT_INPUT: a slash command
            "description": self.description,
            "options": [o.to_json() for o in self.options],
            "dm_permission": False,  # roles exist only in a guild
        }


def _service(verb: str) -> tuple[Option, ...]:
    return (Option("service", f"the service to {verb}", required=True, autocomplete=True),)


_TARGET = Option("target", "a channel or an event kind (default: everything)", autocomplete=True)

COMMANDS: Final = (
    Command("status", "Herald's health: channels, backlog, dead letters, the monitor's checks"),
    Command("latency", "Latency per service (monitor) and publish → Discord (engine)"),
    Command(
        "trades",
        "The most recent trades",
        (
            Option("count", "how many (1-25)", OptionType.INTEGER, min_value=1, max_value=25),
            Option("pair", "only this pair, e.g. XRP/USD"),
        ),
    ),
    Command("positions", "Open positions per pair"),
    Command(
        "pnl",
        "P&L for a day, week or month, with its chart",
        (
            Option("period", "which period", required=True, choices=("daily", "weekly", "monthly")),
            Option("date", "a date in the period, YYYY-MM-DD (default: the current one)"),
        ),
    ),
    Command(
        "alerts",
        "Mute or unmute alerts, or list the mutes",
        (
            Option(
                "off",
                "mute alerts until a time",
                OptionType.SUB_COMMAND,
                options=(_TARGET, Option("for", "how long, e.g. 30m or 2h (default 1h)")),
            ),
            Option("on", "unmute", OptionType.SUB_COMMAND, options=(_TARGET,)),
            Option("list", "the mutes in force", OptionType.SUB_COMMAND),
        ),
    ),
    Command("restart", "Restart a service (asks to confirm)", _service("restart")),
    Command("deploy", "Deploy a service (asks to confirm)", _service("deploy")),
)
BY_NAME: Final = {c.name: c for c in COMMANDS}


def payload() -> list[dict[str, Any]]:
    """The body of the bulk overwrite (PUT .../commands)."""
    return [c.to_json() for c in COMMANDS]


@dataclass(frozen=True)
class Invocation:
    command: str
    sub: str | None
    values: dict[str, Value]
    focused: str | None = None
    """Autocomplete: the option being typed."""


def parse(name: str, given: Sequence[CommandOption]) -> Invocation:
    """Check a command and its options against the definition; `BadInput` says what is off."""
    command = BY_NAME.get(name)
    if command is None:
        raise BadInput(f"unknown command /{name[:32]}")
    options, sub = command.options, None
    if options and options[0].type == OptionType.SUB_COMMAND:
        subs = {o.name: o for o in options}
        if len(given) != 1 or given[0].name not in subs or given[0].type != OptionType.SUB_COMMAND:
            raise BadInput(f"/{name} needs one of: {', '.join(subs)}")
        sub, options, given = given[0].name, subs[given[0].name].options, given[0].options
    values, focused = _values(f"/{name}", options, given)
    return Invocation(name, sub, values, focused)


def _values(
    where: str, options: Sequence[Option], given: Sequence[CommandOption]
) -> tuple[dict[str, Value], str | None]:
    known = {o.name: o for o in options}
    values: dict[str, Value] = {}
    focused = None
    for item in given:
        option = known.get(item.name)
        if option is None:
            raise BadInput(f"{where}: unknown option `{item.name[:32]}`")
        values[item.name] = _value(where, option, item)
        if item.focused:
            focused = item.name
    if focused is None:  # autocomplete sends partial values: only a full command must be whole
        for option in options:
            if option.required and option.name not in values:
                raise BadInput(f"{where}: `{option.name}` is required")
    return values, focused


def _value(where: str, option: Option, item: CommandOption) -> Value:
    if item.type != option.type:
        raise BadInput(f"{where}: `{option.name}` has the wrong type")
    value = item.value
    if option.type == OptionType.INTEGER:
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadInput(f"{where}: `{option.name}` must be a whole number")
        low, high = option.min_value, option.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            raise BadInput(f"{where}: `{option.name}` must be between {low} and {high}")
        return value
    if not isinstance(value, str) or len(value) > STRING_MAX:
        raise BadInput(f"{where}: `{option.name}` must be text of at most {STRING_MAX} characters")
    if option.choices and not item.focused and value not in option.choices:
        raise BadInput(f"{where}: `{option.name}` must be one of {', '.join(option.choices)}")
    return value

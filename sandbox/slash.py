"""Typed slash commands as Discord builds them: `/alerts off target:market-data for:30m`
becomes the interaction's `data`, its options typed from the registered definitions."""

import shlex
from typing import Any

SUB_COMMAND, INTEGER = 1, 4


class Unsendable(Exception):
    """A typed command the sandbox cannot turn into an interaction (the message says why)."""


def command_data(commands: dict[str, dict[str, Any]], text: str) -> dict[str, Any]:
    """`/alerts off target:market-data for:30m` -> the interaction's `data`."""
    try:
        words = shlex.split(text.strip())
    except ValueError as exc:
        raise Unsendable(f"cannot read that: {exc}") from None
    if not words or not words[0].startswith("/") or len(words[0]) < 2:
        raise Unsendable("type a slash command, e.g. /status")
    name = words[0][1:]
    definition = commands.get(name)
    if definition is None:
        known = ", ".join("/" + n for n in commands) or "none: run `herald bot register`"
        raise Unsendable(f"/{name} is not registered (registered: {known})")
    options = definition.get("options", [])
    rest = words[1:]
    data: dict[str, Any] = {"id": definition["id"], "name": name, "type": 1}
    if options and options[0]["type"] == SUB_COMMAND:
        subs = {o["name"]: o for o in options}
        if not rest or rest[0] not in subs:
            raise Unsendable(f"/{name} needs one of: {', '.join(subs)}")
        sub = subs[rest[0]]
        given = _options(sub.get("options", []), rest[1:])
        data["options"] = [{"name": sub["name"], "type": SUB_COMMAND, "options": given}]
    else:
        data["options"] = _options(options, rest)
    return data


def _options(definitions: list[dict[str, Any]], words: list[str]) -> list[dict[str, Any]]:
    """`name:value` words, or bare words filling the options in order."""
    by_name = {d["name"]: d for d in definitions}
    given: list[dict[str, Any]] = []
    free = list(definitions)
    for word in words:
        name, sep, value = word.partition(":")
        if not sep or name not in by_name:
            if not free:
                raise Unsendable(f"nothing takes {word!r}")
            definition, value = free[0], word
        else:
            definition = by_name[name]
        if definition in free:
            free.remove(definition)
        given.append({"name": definition["name"], "type": definition["type"],
                      "value": _typed(definition, value)})  # fmt: skip
    return given


def _typed(definition: dict[str, Any], value: str) -> Any:
    if definition["type"] != INTEGER:
        return value
    try:
        return int(value)
    except ValueError:
        raise Unsendable(f"`{definition['name']}` takes a whole number, not {value!r}") from None

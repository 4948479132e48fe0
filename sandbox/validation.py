"""Execute Webhook body validation, answered the way Discord answers it.

The JSON Schema is Discord's own (`spec/`), compiled once, twice over: a fast yes/no
check (`fastcheck`) lets valid bodies through, and jsonschema words the errors of the
rest. What a schema cannot say
(the 6000-character embed total, the empty message, reserved usernames, non-empty
field names and values) is checked here in code. Errors are nested by the failing
field's path, list indices as string keys, exactly like Discord's 50035 body, so a
client can drop one bad embed from a batch.
"""

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from sandbox.fastcheck import Check, SchemaCompiler

SCHEMA_PATH = Path(__file__).with_name("spec") / "incoming_webhook_request.schema.json"
EMBED_TOTAL_MAX = 6000
_decode = msgspec.json.Decoder().decode  # ~3x faster than json.loads; DecodeError is a ValueError
RESERVED_USERNAME_WORDS = ("discord", "clyde")

Path_ = tuple[str | int, ...]
ErrorTree = dict[str, Any]


class FormError:
    """One `{"code", "message"}` entry under a field path's `_errors`."""

    __slots__ = ("code", "message", "path")

    def __init__(self, path: Path_, code: str, message: str) -> None:
        self.path, self.code, self.message = path, code, message

    def __repr__(self) -> str:
        return f"FormError({'.'.join(map(str, self.path)) or '$'}: {self.code})"


class Rejection(Exception):
    """A 400 (or `status`) with Discord's body; `body` is what the sandbox sends back."""

    def __init__(self, body: dict[str, Any], status: int = 400) -> None:
        super().__init__(body.get("message", "rejected"))
        self.body = body
        self.status = status


def empty_message() -> Rejection:
    return Rejection({"code": 50006, "message": "Cannot send an empty message"})


def invalid_json() -> Rejection:
    return Rejection({"code": 50109, "message": "The request body contains invalid JSON."})


def form_body(errors: Iterable[FormError]) -> dict[str, Any]:
    """Discord's 50035 body: `errors` nested by path, each leaf holding `_errors`."""
    tree: ErrorTree = {}
    for error in errors:
        node = tree
        for part in error.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": error.code, "message": error.message})
    return {"code": 50035, "message": "Invalid Form Body", "errors": tree}


def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in ("http", "https", "attachment") and bool(parts.netloc or parts.path)


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[object], bool]] = {"uri": _is_uri, "date-time": _is_datetime}


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text())
    Draft202012Validator.check_schema(schema)
    return schema


@lru_cache(maxsize=1)
def reference_validator() -> Any:
    """jsonschema's validator for Discord's schema, compiled once; it words every error."""
    checker = FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name)(check)
    return Draft202012Validator(_schema(), format_checker=checker)


@lru_cache(maxsize=1)
def fast_check() -> Check:
    """The same schema as plain closures: a valid body skips jsonschema entirely."""
    return SchemaCompiler(_schema(), FORMATS).compile()


def _translate(error: ValidationError) -> Iterator[FormError]:
    """Turn one jsonschema error into Discord-style errors at the deepest useful path."""
    path: Path_ = tuple(error.absolute_path)
    kind = error.validator
    if kind in ("oneOf", "anyOf") and error.context:
        yield from _translate_choice(error, path)
    elif kind in ("maxLength", "minLength", "maxItems", "minItems"):
        yield _length_error(error, path)
    elif kind == "required":
        value = error.instance
        for name in error.validator_value:
            if isinstance(value, dict) and name not in value:
                yield FormError((*path, name), "BASE_TYPE_REQUIRED", "This field is required")
    else:
        yield FormError(path, *_simple_error(error))


def _length_error(error: ValidationError, path: Path_) -> FormError:
    kind = str(error.validator)
    suffix = "Length" if kind.endswith("Length") else "Items"
    low, high = error.schema.get("min" + suffix), error.schema.get("max" + suffix)
    if low and high:
        return FormError(
            path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length."
        )
    if kind.startswith("max"):
        return FormError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
    return FormError(path, "BASE_TYPE_MIN_LENGTH", f"Must be {low} or more in length.")


_SIMPLE: dict[str, Callable[[Any, Any], tuple[str, str]]] = {
    "maximum": lambda bound, _: (
        "NUMBER_TYPE_MAX",
        f"int value should be less than or equal to {bound}.",
    ),
    "minimum": lambda bound, _: (
        "NUMBER_TYPE_MIN",
        f"int value should be greater than or equal to {bound}.",
    ),
    "pattern": lambda _, value: ("NUMBER_TYPE_COERCE", f'Value "{value}" is not snowflake.'),
    "uniqueItems": lambda *_: ("LIST_ITEM_VALUE_DUPLICATE", "List item values must be unique."),
}


def _simple_error(error: ValidationError) -> tuple[str, str]:
    """Discord's code and wording for a single-value failure."""
    kind, bound, value = error.validator, error.validator_value, error.instance
    if kind == "type":
        return _type_error(bound, value)
    if kind == "format":
        if bound == "uri":
            return "URL_TYPE_INVALID_URL", "Not a well formed URL."
        return "DATE_TYPE_PARSE", f"Could not parse {value}. Should be ISO8601."
    if kind in _SIMPLE:
        return _SIMPLE[kind](bound, value)
    return "BASE_TYPE_CHOICES", f"Value must be one of {bound!r}."  # enum, const


def _type_error(expected: str | list[str], value: object) -> tuple[str, str]:
    names = [expected] if isinstance(expected, str) else [t for t in expected if t != "null"]
    wanted = names[0] if names else "null"
    if wanted == "object":
        return "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
    if wanted == "array":
        return "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"
    if wanted in ("string", "boolean"):
        code = "STRING_TYPE_CONVERT" if wanted == "string" else "BOOLEAN_TYPE_CONVERT"
        return code, f'Could not interpret "{value}" as {wanted}.'
    return (
        "NUMBER_TYPE_COERCE",
        f'Value "{value}" is not {"int" if wanted == "integer" else wanted}.',
    )


def _translate_choice(error: ValidationError, path: Path_) -> Iterator[FormError]:
    """`oneOf: [null, X]` fails with sub-errors per branch: report the branch that fits.

    A branch whose only complaint is the top-level `type` is the wrong branch (e.g. the
    `null` one for an object); if exactly one branch is left, its errors are the answer.
    """
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    fitting = [
        subs
        for subs in branches.values()
        if not any(s.validator == "type" and tuple(s.absolute_path) == path for s in subs)
    ]
    if len(fitting) == 1:
        for sub in fitting[0]:
            yield from _translate(sub)
    else:
        yield FormError(path, "BASE_TYPE_CHOICES", "Value did not match any allowed form.")


def _text_len(node: object, key: str) -> int:
    value = node.get(key) if isinstance(node, dict) else None
    return len(value) if isinstance(value, str) else 0


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _embed_text_length(embed: object) -> int:
    """Discord's embed size: title, description, field names/values, footer text, author name."""
    if not isinstance(embed, dict):
        return 0
    total = _text_len(embed, "title") + _text_len(embed, "description")
    for item in _list(embed.get("fields")):
        total += _text_len(item, "name") + _text_len(item, "value")
    return total + _text_len(embed.get("footer"), "text") + _text_len(embed.get("author"), "name")


def _rules(body: dict[str, Any]) -> Iterator[FormError]:
    """The limits Discord enforces that its schema does not encode."""
    embeds = _list(body.get("embeds"))
    if sum(_embed_text_length(e) for e in embeds) > EMBED_TOTAL_MAX:
        yield FormError(
            ("embeds",),
            "MAX_EMBED_SIZE_EXCEEDED",
            f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
        )
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        for j, item in enumerate(_list(embed.get("fields"))):
            for key in ("name", "value") if isinstance(item, dict) else ():
                text = item.get(key)
                if isinstance(text, str) and not text.strip():
                    yield FormError(
                        ("embeds", i, "fields", j, key),
                        "BASE_TYPE_REQUIRED",
                        "This field is required",
                    )
    username = body.get("username")
    if isinstance(username, str):
        lowered = username.lower()
        for word in RESERVED_USERNAME_WORDS:
            if word in lowered:
                yield FormError(
                    ("username",), "USERNAME_INVALID_CONTAINS", f'Username cannot contain "{word}"'
                )


def _is_empty(body: dict[str, Any]) -> bool:
    content = body.get("content")
    has_content = isinstance(content, str) and content.strip() != ""
    others = ("embeds", "components", "attachments", "poll", "sticker_ids", "files")
    return not has_content and not any(body.get(key) for key in others)


def validate_message(raw: bytes | dict[str, Any], *, files: int = 0) -> dict[str, Any]:
    """Parse and check an Execute Webhook body (the JSON body, a multipart request's
    `payload_json`, or its form fields as a dict); return it or raise `Rejection`.
    `files` uploaded with it make a message without text or embeds non-empty."""
    try:
        body = _decode(raw) if isinstance(raw, bytes) else raw
    except (ValueError, UnicodeDecodeError):
        raise invalid_json() from None
    errors: list[FormError] = []
    if not fast_check()(body):
        errors = [e for error in reference_validator().iter_errors(body) for e in _translate(error)]
    if isinstance(body, dict):
        errors.extend(_rules(body))
    if errors:
        errors.sort(key=lambda e: tuple(str(p) for p in e.path))
        raise Rejection(form_body(errors))
    if not files and _is_empty(body):
        raise empty_message()
    return dict(body)

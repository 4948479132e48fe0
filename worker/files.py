"""A message's files: an embed's `attachment://` image, unique names, Discord's limits.

Coalescing puts several events' files into one message, where Discord matches an
embed's `attachment://name` against the uploaded filenames: two events each sending
`pnl.png` would both show the first. So names are made unique per message (`pnl-2.png`)
and each event's embed is pointed at its own renamed file.
"""

from collections.abc import Iterable, Sequence
from typing import Final

from msgspec.structs import replace

from schemas.attachments import MAX_FILES, MESSAGE_FILE_BYTES, Attachment
from worker.limits import Embed

SCHEME: Final = "attachment://"
Weight = tuple[int, int]
"""Files and their bytes, for splitting a batch within `MAX_FILES`/`MESSAGE_FILE_BYTES`."""
_URL_KEYS: Final = (
    ("image", "url"),
    ("thumbnail", "url"),
    ("author", "icon_url"),
    ("footer", "icon_url"),
)


def image_url(files: Iterable[Attachment]) -> str | None:
    """`attachment://<name>` of the first image among `files`, or None."""
    return next((SCHEME + f.filename for f in files if f.is_image), None)


def weight(files: Sequence[Attachment]) -> Weight:
    return len(files), sum(len(f.data) for f in files)


def fits(total: Weight, more: Weight) -> bool:
    """Whether `more` files can join a message already carrying `total`."""
    return total[0] + more[0] <= MAX_FILES and total[1] + more[1] <= MESSAGE_FILE_BYTES


def assemble(
    embeds: Sequence[Embed], files: Sequence[Sequence[Attachment]]
) -> tuple[list[Embed], list[Attachment]]:
    """One message's embeds and files (`files[i]` are embed i's), every name unique.

    A file whose name is taken is renamed `stem-2.ext` (then `-3`, ...), and the
    `attachment://` URLs of its own embed follow it."""
    taken: set[str] = set()
    out_embeds: list[Embed] = []
    out_files: list[Attachment] = []
    for embed, own in zip(embeds, files, strict=True):
        renames: dict[str, str] = {}
        for file in own:
            name = unique(file.filename, taken)
            taken.add(name)
            if name != file.filename:
                renames.setdefault(file.filename, name)
            out_files.append(file if name == file.filename else replace(file, filename=name))
        out_embeds.append(retarget(embed, renames) if renames else embed)
    return out_embeds, out_files


def unique(name: str, taken: set[str]) -> str:
    """`name`, or `stem-N.ext` with the smallest N >= 2 not in `taken`."""
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not stem:  # no dot (or a leading one only): number the whole name
        stem, dot, ext = name, "", ""
    n = 2
    while f"{stem}-{n}{dot}{ext}" in taken:
        n += 1
    return f"{stem}-{n}{dot}{ext}"


def retarget(embed: Embed, renames: dict[str, str]) -> Embed:
    """A copy of `embed` whose `attachment://old` URLs name the renamed files."""
    out = dict(embed)
    for part, key in _URL_KEYS:
        node = out.get(part)
        url = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(url, str) and url.startswith(SCHEME):
            new = renames.get(url[len(SCHEME) :])
            if new is not None:
                out[part] = {**node, key: SCHEME + new}
    return out


def described(files: Sequence[Attachment]) -> list[dict[str, str]]:
    """The `attachments` array of `payload_json`: id `n` is the `files[n]` part."""
    out = []
    for n, file in enumerate(files):
        entry = {"id": str(n), "filename": file.filename}
        if file.description:
            entry["description"] = file.description
        out.append(entry)
    return out

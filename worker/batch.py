"""Coalescing: consecutive embeds into as few messages as Discord accepts.

A webhook allows about 5 requests per 2 s, so a backlog drains ten times faster when
each request carries up to 10 embeds. Greedy and in order, so a channel's messages
keep the order its events arrived in.
"""

from collections.abc import Sequence

from worker.files import Weight, fits
from worker.limits import EMBEDS, TOTAL, Embed, embed_size, fit_embed


def pack(embeds: Sequence[Embed], files: Sequence[Weight] = ()) -> list[list[Embed]]:
    """Group consecutive embeds into messages of <= 10 embeds and <= 6000 characters,
    and (given `files[i]`, embed i's file count and bytes) within Discord's file limits.

    Rendered embeds are always <= 6000 already; anything bigger (a caller-built embed)
    is fitted rather than left to fail the whole message at Discord.
    """
    messages: list[list[Embed]] = []
    current: list[Embed] = []
    current_size = 0
    carried: Weight = (0, 0)
    for i, original in enumerate(embeds):
        embed = original if embed_size(original) <= TOTAL else fit_embed(original)
        size = embed_size(embed)
        own = files[i] if files else (0, 0)
        if current and (
            len(current) == EMBEDS
            or current_size + size > TOTAL
            or (own[0] and not fits(carried, own))
        ):
            messages.append(current)
            current, current_size, carried = [], 0, (0, 0)
        current.append(embed)
        current_size += size
        if own[0]:
            carried = (carried[0] + own[0], carried[1] + own[1])
    if current:
        messages.append(current)
    return messages

"""Coalescing: consecutive embeds into as few messages as Discord accepts.

A webhook allows about 5 requests per 2 s, so a backlog drains ten times faster when
each request carries up to 10 embeds. Greedy and in order, so a channel's messages
keep the order its events arrived in.
"""

from collections.abc import Sequence

from worker.limits import EMBEDS, TOTAL, Embed, embed_size, fit_embed


def pack(embeds: Sequence[Embed]) -> list[list[Embed]]:
    """Group consecutive embeds into messages of <= 10 embeds and <= 6000 characters.

    Rendered embeds are always <= 6000 already; anything bigger (a caller-built embed)
    is fitted rather than left to fail the whole message at Discord.
    """
    messages: list[list[Embed]] = []
    current: list[Embed] = []
    current_size = 0
    for original in embeds:
        embed = original if embed_size(original) <= TOTAL else fit_embed(original)
        size = embed_size(embed)
        if current and (len(current) == EMBEDS or current_size + size > TOTAL):
            messages.append(current)
            current, current_size = [], 0
        current.append(embed)
        current_size += size
    if current:
        messages.append(current)
    return messages

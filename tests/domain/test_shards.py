"""Which servers a process serves: Discord's shard formula and SHARD_IDS (SPEC §8)."""

from __future__ import annotations

import pytest

from bot.domain.shards import Shards, describe, parse_shard_ids, shard_of


def test_discords_formula() -> None:
    guild = 197038439483310086  # (id >> 22) is the server's creation time in ms
    assert shard_of(guild, 1) == 0
    assert shard_of(guild, 4) == (guild >> 22) % 4
    assert {shard_of((n << 22) + 12345, 3) for n in range(6)} == {0, 1, 2}


def test_a_process_owns_only_its_shards_servers() -> None:
    mine = Shards(4, frozenset({1, 3}))
    owned = [n for n in range(8) if mine.owns(n << 22)]
    assert owned == [1, 3, 5, 7]
    assert not mine.everything and mine.share == 0.5 and mine.sorted_ids == [1, 3]
    assert Shards().owns(123) and Shards(4).everything and Shards(2, frozenset({0, 1})).everything


@pytest.mark.parametrize(
    ("text", "ids"),
    [("0", {0}), ("0-3", {0, 1, 2, 3}), ("0,2,4", {0, 2, 4}), (" 0-1 , 5 ", {0, 1, 5})],
)
def test_shard_lists_as_operators_write_them(text: str, ids: set[int]) -> None:
    assert parse_shard_ids(text, 8) == ids


@pytest.mark.parametrize("text", ["", "0,", "a", "3-1", "-1", "1-b"])
def test_what_is_not_a_shard_list(text: str) -> None:
    with pytest.raises(ValueError):
        parse_shard_ids(text, 8)


@pytest.mark.timeout(5)
@pytest.mark.parametrize(
    ("text", "outside"),
    [
        ("0-3000000000", 4),
        ("0-1000000000000000000", 4),
        ("2,7-9", 7),
        ("1,4", 4),
        ("99999999999999", 99999999999999),
    ],
)
def test_ranges_are_checked_against_the_count_before_anything_is_built(
    text: str, outside: int
) -> None:
    """`0-3000000000` with 4 shards is refused at once; it never becomes three billion numbers."""
    with pytest.raises(ValueError) as caught:
        parse_shard_ids(text, 4)
    assert str(caught.value) == f"shard {outside} is outside 0-3 (there are 4)"


def test_shards_outside_the_count_or_none_at_all() -> None:
    with pytest.raises(ValueError, match="outside 0-1"):
        Shards(2, frozenset({2}))
    with pytest.raises(ValueError, match="empty"):
        Shards(2, frozenset())
    with pytest.raises(ValueError):
        Shards(0)


def test_described_back() -> None:
    assert describe([0, 1, 2, 3, 6, 8, 9]) == "0-3,6,8-9"
    assert describe([5]) == "5" and describe([]) == ""

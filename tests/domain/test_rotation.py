from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.rotation import (
    draw,
    filter_key,
    least_recently_used,
)

IDS = [f"q{n}" for n in range(1, 8)]


def draw_many(
    candidates: list[str], times: int, rng: random.Random, remaining: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """Draw `times` picks as a channel would, persisting the bag between draws."""
    bag = remaining or []
    picks: list[str] = []
    for _ in range(times):
        pick, bag = draw(candidates, bag, rng, last=picks[-1] if picks else None)
        picks.append(pick)
    return picks, bag


@pytest.mark.parametrize("seed", range(20))
def test_a_round_shows_every_candidate_once_before_any_repeats(seed: int) -> None:
    rng = random.Random(seed)
    picks, bag = draw_many(IDS, len(IDS) * 3, rng)
    for start in range(0, len(picks), len(IDS)):
        assert sorted(picks[start : start + len(IDS)]) == sorted(IDS)
    assert bag == []


@pytest.mark.parametrize("seed", range(50))
def test_a_new_round_does_not_open_with_the_last_pick(seed: int) -> None:
    rng = random.Random(seed)
    picks, _ = draw_many(IDS[:2], 20, rng)
    assert all(a != b for a, b in itertools.pairwise(picks))
    picks, _ = draw_many(IDS, 70, rng)
    assert all(a != b for a, b in itertools.pairwise(picks))


def test_last_is_avoided_even_when_the_shuffle_puts_it_first() -> None:
    # Find seeds whose plain shuffle would put "q1" first; draw must move it away.
    hits = 0
    for seed in range(200):
        order = list(IDS)
        random.Random(seed).shuffle(order)
        if order[0] != "q1":
            continue
        hits += 1
        pick, bag = draw(IDS, [], random.Random(seed), last="q1")
        assert pick != "q1"
        assert sorted([pick, *bag]) == sorted(IDS)
    assert hits > 0


def test_one_candidate_repeats_without_complaint() -> None:
    rng = random.Random(1)
    assert draw(["only"], [], rng, last="only") == ("only", [])


def test_the_bag_follows_changes_of_the_candidates() -> None:
    rng = random.Random(3)
    # q2 was removed from the dataset, an unknown id and a duplicate sneaked in
    pick, bag = draw(["q1", "q3", "q4"], ["q2", "zz", "q3", "q3", "q4"], rng)
    assert pick == "q3"
    assert bag == ["q4"]
    # the bag held only removed items: a fresh round of the current candidates
    pick, bag = draw(["q5", "q6"], ["q1", "q2"], rng)
    assert sorted([pick, *bag]) == ["q5", "q6"]


def test_draw_needs_candidates() -> None:
    with pytest.raises(ValueError):
        draw([], ["q1"], random.Random(0))


def test_least_recently_used_never_used_first_then_oldest() -> None:
    now = datetime(2024, 1, 24, tzinfo=UTC)
    last_used = {"old": now - timedelta(days=30), "new": now, "mid": now - timedelta(days=3)}
    candidates = ["new", "fresh1", "mid", "old", "fresh2", "old"]
    for seed in range(10):
        picked = least_recently_used(candidates, last_used, 5, random.Random(seed))
        assert sorted(picked[:2]) == ["fresh1", "fresh2"]
        assert picked[2:] == ["old", "mid", "new"]
    assert least_recently_used(candidates, last_used, 3, random.Random(0))[2] == "old"
    assert len(least_recently_used(candidates, last_used, 99, random.Random(0))) == 5
    assert least_recently_used(candidates, last_used, 0, random.Random(0)) == []


def test_least_recently_used_shuffles_the_never_used() -> None:
    orders = {
        tuple(least_recently_used(IDS, {}, len(IDS), random.Random(seed))) for seed in range(10)
    }
    assert len(orders) > 1


def test_filter_key_is_stable_and_normalized() -> None:
    key = filter_key("quote", speaker="v", search="camcorder")
    assert key == "quote|search=camcorder|speaker=v"
    assert filter_key("quote", search="Camcorder", speaker="V") == key
    assert filter_key("quote", search="love WINS", speaker=None) == filter_key(
        "quote", search="wins  lóve"
    )
    assert filter_key("quote", search="", speaker=None) == "quote"
    assert filter_key("fact", topic="charts") != filter_key("fact", topic="song")
    assert filter_key("fact", topic="charts") != filter_key("quote", topic="charts")


def test_long_filter_keys_are_cut_and_hashed() -> None:
    long_a = filter_key("quote", search=" ".join(f"word{n}" for n in range(100)))
    long_b = filter_key("quote", search=" ".join(f"word{n}" for n in range(101)))
    assert len(long_a) <= 200
    assert len(long_b) <= 200
    assert long_a != long_b
    assert long_a == filter_key("quote", search=" ".join(f"word{n}" for n in reversed(range(100))))


# --- filtered draws from the same bag ----------------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_what_a_filter_shows_counts_against_the_whole_rotation(seed: int) -> None:
    """A fan asks for one speaker a few times, then for any quote: nothing shown under the
    filter comes back before the round is over."""
    rng = random.Random(seed)
    speaker = {"q1", "q2", "q3", "q4"}
    bag: list[str] = []
    shown: list[str] = []
    for _ in range(3):
        pick, bag = draw(IDS, bag, rng, last=shown[-1] if shown else None, within=speaker)
        assert pick in speaker
        shown.append(pick)
    for _ in range(len(IDS) - 3):
        pick, bag = draw(IDS, bag, rng, last=shown[-1])
        shown.append(pick)
    assert sorted(shown) == sorted(IDS)  # one round: everything once, nothing twice
    assert bag == []


def test_a_filter_whose_items_were_all_shown_puts_them_back_but_not_the_last() -> None:
    rng = random.Random(3)
    speaker = {"q1", "q2"}
    pick1, bag = draw(IDS, [], rng, within=speaker)
    pick2, bag = draw(IDS, bag, rng, last=pick1, within=speaker)
    assert {pick1, pick2} == speaker
    pick3, bag = draw(IDS, bag, rng, last=pick2, within=speaker)  # the fan asks again
    assert pick3 == pick1  # back, but never twice in a row
    assert sorted(bag) == sorted(set(IDS) - speaker)  # the others' round goes on


def test_a_filter_outside_the_candidates_is_refused() -> None:
    with pytest.raises(ValueError):
        draw(IDS, [], random.Random(1), within={"nope"})

"""A small, valid dataset written to a folder, for tests that need one they can break."""

from __future__ import annotations

from pathlib import Path

VALID = {
    "sources.toml": """
[[source]]
id = "01-example"
title = "An example article"
publisher = "Example News"
url = "https://example.org/a"
published = 2024-01-24
language = "en"

[[source]]
id = "02-untitled"
title = ""
publisher = "Another Outlet"
url = "https://example.org/b"
published = "unknown"
language = "ko"
""",
    "people.toml": """
[[person]]
id = "v"
name = "V"
aliases = ["Taehyung", "Kim Taehyung", "뷔"]
description = "Member of BTS; stars in the music video."
source = "01-example"

[[person]]
id = "iu"
name = "IU"
aliases = ["Lee Ji-eun", "아이유"]
description = "Singer-songwriter."
source = "01-example"
""",
    "quotes.toml": """
[[quote]]
id = "q-jam"
speaker = "v"
text = "It was totally my jam."
context = "Behind-the-scenes video"
source = "01-example"
evidence = "he said: It was totally my jam. Then he left."
date = 2024-01-28

[[quote]]
id = "q-cafe"
speaker = "iu"
text = "Café memories, running running"
context = "An interview"
source = "01-example"

[[quote]]
id = "q-ko"
speaker = "iu"
text = "유일무이한 캐스팅이 아닐까"
gloss = "Isn't this a one-of-a-kind casting?"
language = "ko"
context = "IU TV"
source = "02-untitled"
""",
    "facts.toml": """
[[fact]]
id = "f-one"
topic = "song"
text = "The song is a ballad."
source = "01-example"
evidence = "a ballad"

[[fact]]
id = "f-two"
topic = "charts"
text = "It reached No. 1."
source = "01-example"
evidence = "No. 1"
""",
    "timeline.toml": """
[[event]]
id = "e-mv"
date = 2024-01-24
time = "00:00"
timezone = "Asia/Seoul"
text = "The music video premiered."
source = "01-example"
evidence = "at midnight"

[[event]]
id = "e-enlist"
date = 2023-12-11
text = "V enlisted."
source = "01-example"
evidence = "December 11"
""",
    "trivia.toml": """
[[question]]
id = "t-director"
question = "Who directed the music video?"
answer = "Um Tae-hwa"
wrong = ["Bong Joon-ho", "Park Chan-wook", "Na Hong-jin"]
difficulty = "easy"
topic = "music-video"
explanation = "Um Tae-hwa directed it."
source = "01-example"
evidence = "directed by Um Tae-hwa"

[[question]]
id = "t-true"
question = "V sings on the song."
answer = "False"
wrong = ["True"]
difficulty = "medium"
topic = "song"
explanation = "He appears only in the video."
source = "01-example"
evidence = "V didn't sing"
""",
}


def write_dataset(folder: Path, **overrides: str) -> Path:
    """Write the valid dataset, replacing whole files by name (`quotes="..."`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in VALID.items():
        key = name.removesuffix(".toml")
        (folder / name).write_text(overrides.get(key, text), encoding="utf-8")
    return folder

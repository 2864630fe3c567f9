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
name_ko = "뷔"
description_ko = "방탄소년단 멤버. 뮤직비디오에 나와요."

[[person]]
id = "iu"
name = "IU"
aliases = ["Lee Ji-eun", "아이유"]
description = "Singer-songwriter."
source = "01-example"
name_ko = "아이유"
description_ko = "싱어송라이터."
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
context_ko = "비하인드 영상"
text_ko = "완전 내 취향이었어요."
evidence_ko = "그는 말했다: 완전 내 취향이었어요. 그리고 떠났다."

[[quote]]
id = "q-cafe"
speaker = "iu"
text = "Café memories, running running"
context = "An interview"
source = "01-example"
context_ko = "인터뷰"
original_ko = "유일무이한 캐스팅"
original_source = "02-untitled"

[[quote]]
id = "q-ko"
speaker = "iu"
text = "유일무이한 캐스팅이 아닐까"
gloss = "Isn't this a one-of-a-kind casting?"
language = "ko"
context = "IU TV"
source = "02-untitled"
context_ko = "IU TV"
""",
    "facts.toml": """
[[fact]]
id = "f-one"
topic = "song"
text = "The song is a ballad."
source = "01-example"
evidence = "a ballad"
text_ko = "이 곡은 발라드예요."
evidence_ko = "발라드"

[[fact]]
id = "f-two"
topic = "charts"
text = "It reached No. 1."
source = "01-example"
evidence = "No. 1"
text_ko = "1위에 올랐어요."
evidence_ko = "1위"
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
text_ko = "뮤직비디오가 공개됐어요."
evidence_ko = "자정에"

[[event]]
id = "e-enlist"
date = 2023-12-11
text = "V enlisted."
source = "01-example"
evidence = "December 11"
text_ko = "뷔가 입대했어요."
evidence_ko = "12월 11일"
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
question_ko = "뮤직비디오는 누가 연출했나요?"
answer_ko = "엄태화"
wrong_ko = ["봉준호", "박찬욱", "나홍진"]
explanation_ko = "엄태화 감독이 연출했어요."
evidence_ko = "엄태화 감독 연출"

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
question_ko = "뷔가 이 노래를 불렀어요."
answer_ko = "거짓"
wrong_ko = ["참"]
explanation_ko = "뷔는 뮤직비디오에만 나와요."
evidence_ko = "뷔는 노래하지 않았다"
""",
}


def write_dataset(folder: Path, **overrides: str) -> Path:
    """Write the valid dataset, replacing whole files by name (`quotes="..."`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in VALID.items():
        key = name.removesuffix(".toml")
        (folder / name).write_text(overrides.get(key, text), encoding="utf-8")
    return folder

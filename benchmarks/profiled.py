"""Run a bot module under pyinstrument (a one-off profiling aid; pyinstrument is not a
dependency of the project).

    uv run --with pyinstrument python -m benchmarks.interactions --profile

sets BENCH_PROFILE_MODULE (the module to run, e.g. `bot`) and BENCH_PROFILE_OUT (where the text
report goes) for the bot process, which is started as `python -m benchmarks.profiled`.
"""

from __future__ import annotations

import os
import runpy
import sys

from pyinstrument import Profiler


def main() -> None:
    target = os.environ["BENCH_PROFILE_MODULE"]
    out = os.environ["BENCH_PROFILE_OUT"]
    profiler = Profiler(interval=0.0005, async_mode="disabled")
    sys.argv = [target]
    profiler.start()
    try:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    finally:
        profiler.stop()
        text = profiler.output_text(unicode=True, color=False, show_all=False)
        # Paths relative to the working directory (the repository) or to site-packages.
        text = text.replace(os.getcwd() + os.sep, "")
        for entry in sys.path:
            if entry.endswith("site-packages"):
                text = text.replace(entry + os.sep, "")
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()

"""Performance benchmarks of the bot, run by hand (see benchmarks/README.md).

Every figure is reported next to a baseline measured in the same run, as a ratio: the machines
these run on are shared and noisy.
"""

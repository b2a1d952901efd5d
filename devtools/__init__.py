"""Developer tools shared by `tests/` and `bench/`: start and stop a real digitflow system.

An installed package (listed in pyproject), so tests and benchmark scripts import it the
same way, with no `sys.path` edits. Not used by digitflow itself at run time.
"""

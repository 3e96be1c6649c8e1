"""Draws 摇号: the public algorithm ssj-draw-v2 that picks targets and inspectors at random.

Serves Art 5 (inspectors drawn by lot, teams of two or more, recusal) and
Art 6 (targets drawn by lot from the directory), with Art 7's sample sizes.
This package's algorithm module is pure code with no Flask or database in
it, so that anyone can re-run a published draw (see ssj/verify.py).
"""

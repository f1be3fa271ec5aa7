"""``python -m harlite.cli``."""

from harlite.cli import main

main()

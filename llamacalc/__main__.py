"""`python -m llamacalc`."""

from llamacalc.cli import main

main()

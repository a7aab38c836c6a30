"""Allow ``python -m supplygraph``."""

from supplygraph.cli import main

main()

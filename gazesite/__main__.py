"""Allow ``python -m gazesite``."""

from gazesite.cli import main

main()

"""Allow ``python -m gazesite``."""

from gazesite.commands import main

main()

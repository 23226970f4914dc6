"""tenant-catalog-sync: publish the public rows of every tenant schema into shared catalogs."""

import os as _os

__version__ = "0.1.0"

# Installed, db/ and migrations/ are the subpackages pyinstaller_tools.db and
# pyinstaller_tools.migrations (see pyproject.toml). Run from a source checkout
# (python -m, pytest, scripts), they sit beside this package: let the package
# find them there too.
_checkout = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if _os.path.isfile(_os.path.join(_checkout, "db", "install.txt")) and _checkout not in __path__:
    __path__.append(_checkout)

# SPDX-License-Identifier: MIT
"""``python -m mpstate ...`` runs the mpstate CLI (``mpstate --help``)."""

from ._programs import cli

if __name__ == "__main__":
    cli()

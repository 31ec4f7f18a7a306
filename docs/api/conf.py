# SPDX-License-Identifier: MIT
# The Python API reference: Sphinx autodoc over the built package (the ctest
# python_api_docs builds it with -W, warnings as errors).
#   PYTHONPATH=build/release/python python3 -m sphinx -W -b html docs/api build/api
project = "mpstate"
extensions = ["sphinx.ext.autodoc"]
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_typehints = "none"  # pybind11 signatures are in the docstrings
html_theme = "alabaster"
exclude_patterns = ["_build"]

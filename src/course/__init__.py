"""Course platform: author notebooks once, release them with nbgrader, grade in an isolated judge."""

__version__ = "0.1.0"

import sys as _sys

# nbformat imports jsonschema, whose optional IRI format checker (rfc3987_syntax) compiles 39
# Lark grammars at import: about a second of CPU in every `course` process and judge, for a
# check no notebook schema uses. Blocking that optional import makes jsonschema skip it.
_sys.modules.setdefault("rfc3987_syntax", None)

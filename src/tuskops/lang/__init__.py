"""The TuskLang reader: tokens, parser, evaluator, errors.

``load(path)`` and ``loads(text)`` parse and evaluate; ``parse`` gives the syntax tree only.
"""

from tuskops.lang.api import load, loads, parse, parse_file
from tuskops.lang.document import Document

__all__ = ["Document", "load", "loads", "parse", "parse_file"]

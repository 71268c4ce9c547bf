"""tuskops: platform operations in TuskLang configuration files.

>>> import tuskops
>>> doc = tuskops.loads('name: "shop"\\nreplicas: 1 + 2')
>>> doc.data
{'name': 'shop', 'replicas': 3}
"""

from tuskops.errors import TuskError
from tuskops.lang import Document, load, loads

__version__ = "0.1.0"

__all__ = ["Document", "TuskError", "__version__", "load", "loads"]

"""The ``tuskops`` command: one module per command group."""

"""Registry protocols: pure request builders and response parsers into the registry model."""

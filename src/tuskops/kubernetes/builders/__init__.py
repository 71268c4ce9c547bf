"""Manifests from an :class:`~tuskops.kubernetes.spec.AppSpec`: pure functions, one module per
group of kinds. Each returns plain dicts in the API's own shape (camelCase, ``apiVersion``,
``kind``, ``metadata``), ready to validate and to send with server-side apply."""

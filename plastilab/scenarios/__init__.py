"""The scenario kinds: each package here declares one in its ``__init__`` (``KIND``, see
``core.kind``), found by ``core.registry``; the modules beside them are what the kinds share."""

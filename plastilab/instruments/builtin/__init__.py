"""The built-in instruments, one module each: its table's schema, its cost, its memory and its
measurement (``plastilab.instruments.base`` says what an instrument declares).

``plastilab.instruments.registry`` imports every module here: a new file is a new instrument,
with no list to add it to. Each module imports torch only inside its methods, so that the
scenario schema and the memory estimate (``plastilab validate``) can read it without torch.
"""

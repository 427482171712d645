"""The ``hexapod`` command-line application (a thin layer over the :mod:`hexapod` library)."""

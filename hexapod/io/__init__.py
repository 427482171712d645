"""Files and outputs (layer 2): case files, hardware catalogues, tables, JSON, PDF and plots.

matplotlib is imported only inside :mod:`hexapod.io.sheets` and :mod:`hexapod.io.plots`, and
only when a function there is called.
"""

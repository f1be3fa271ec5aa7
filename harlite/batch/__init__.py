"""Jobs over many recordings: ``harlite batch`` (resumable outputs, a folder lock), its local
process pool and its Ray engine, and the reaper that ends a driver's processes with it.

These are jobs around the device runtime, not part of it: :mod:`harlite.runtime` never imports
this package.
"""

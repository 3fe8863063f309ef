"""A sweep's report: its run folders read back (runs.py), the tables and opening words, the
figures, and report.md written beside the runs (write.py)."""

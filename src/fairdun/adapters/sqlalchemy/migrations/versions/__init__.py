"""One module per revision, oldest first (``v0001_...``). Never edit a revision that has been released: add one."""

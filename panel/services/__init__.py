"""Domain operations: no request objects, only data in and data out."""

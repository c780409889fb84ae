"""Photo handling: validation and compression (imaging), storage."""

"""The pipeline's services; each folder is one independent process (``python -m services.<name>``)."""

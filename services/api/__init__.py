"""The read service: an HTTP API over the ``articles`` alias and the reader pages, in one process."""

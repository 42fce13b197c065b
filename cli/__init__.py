"""The ``newsflow`` command line: run the stages in-process, feed the running pipeline, query the index."""

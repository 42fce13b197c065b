"""Code every newsflow service shares: the message contract, the topology,
settings, logging, the stage runtime and the NATS / OpenSearch plumbing."""

from importlib.metadata import PackageNotFoundError, version

try:
    # Set from git when the package is built or installed (pyproject.toml, setuptools-scm).
    __version__ = version("newsflow")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

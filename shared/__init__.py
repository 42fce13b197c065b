"""Code every newsflow service shares: the message contract, the topology,
settings, logging and the NATS / OpenSearch plumbing."""

__version__ = "0.1.0"

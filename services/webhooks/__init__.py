"""webhooks: delivers ``AlertMatched`` to the alerts' webhooks.

A durable consumer of the alerts subject of its own, beside the pipeline: a slow or failing
endpoint delays only its own deliveries, never the alerts stage or other alerts' deliveries.
"""

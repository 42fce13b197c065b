"""The runtime every pipeline stage shares, in parts by job:

* ``worker``: what a stage's own work looks like (``StageWorker``, ``PerItemWorker``, ``Outcome``,
  ``Dropped``) and the ``StageContext`` it is started with;
* ``runtime``: the pull loop and the settlement of each message (ack, retry, dead letter), each
  message a ``delivery``;
* ``dead_letters``, ``keep_alive``, ``recovery`` (waiting out a server that is down), ``provenance``;
* ``app``: the FastStream app of a service. ``cli/inprocess.py`` drives the same workers in one process.
"""

from shared.stage.app import consumer_config, create_stage_app
from shared.stage.worker import Dropped, Outcome, PerItemWorker, StageContext, StageWorker

__all__ = ["Dropped", "Outcome", "PerItemWorker", "StageContext", "StageWorker", "consumer_config", "create_stage_app"]

"""Each service's small HTTP endpoint: Prometheus ``/metrics`` and ``/healthz``
(200 while the stage is connected and pulling, 503 otherwise)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest


class HealthServer:
    def __init__(self, runner: web.AppRunner) -> None:
        self.runner = runner

    @classmethod
    async def start(cls, host: str, port: int, healthy: Callable[[], bool]) -> HealthServer:
        async def metrics(_: web.Request) -> web.Response:
            return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        async def healthz(_: web.Request) -> web.Response:
            ok = healthy()
            return web.json_response({"status": "ok" if ok else "unavailable"}, status=200 if ok else 503)

        app = web.Application()
        app.add_routes([web.get("/metrics", metrics), web.get("/healthz", healthz)])
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        return cls(runner)

    async def stop(self) -> None:
        await self.runner.cleanup()

import asyncio

from services.alerts.app import create_app

asyncio.run(create_app().run())

import asyncio

from services.ingest.app import create_app

asyncio.run(create_app().run())

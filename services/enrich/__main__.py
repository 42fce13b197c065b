import asyncio

from services.enrich.app import create_app

asyncio.run(create_app().run())

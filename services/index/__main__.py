import asyncio

from services.index.app import create_app

asyncio.run(create_app().run())

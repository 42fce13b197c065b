import asyncio

from services.entity_link.app import create_app

asyncio.run(create_app().run())

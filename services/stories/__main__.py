import asyncio

from services.stories.app import create_app

asyncio.run(create_app().run())

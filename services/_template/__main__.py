import asyncio

from services._template.app import create_app

asyncio.run(create_app().run())

import uvicorn

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.logging import configure_logging

settings = ApiSettings()
configure_logging(settings.log_level)
uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False)

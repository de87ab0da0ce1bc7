"""Contract-first mock and contract-testing server for HTTP APIs described by OpenAPI 3.x."""

from .app import create_app
from .config import MockConfig, load_config
from .errors import ConfigError

__all__ = ["ConfigError", "MockConfig", "create_app", "load_config"]
__version__ = "0.1.0"

"""The reference server of the licensed generator protocol (docs/protocol.md).

Needs the optional extra ``provsdk[server]`` (FastAPI and uvicorn); nothing outside this
package imports it, so the core library works without them.
"""

from provsdk.server.app import create_app
from provsdk.server.config import (
    API_KEYS_ENV,
    ApiKeys,
    LicenceOffer,
    ServerConfig,
    check_host,
    is_loopback_host,
    parse_api_keys,
)
from provsdk.server.run import ServerThread, serve

__all__ = [
    "API_KEYS_ENV",
    "ApiKeys",
    "LicenceOffer",
    "ServerConfig",
    "ServerThread",
    "check_host",
    "create_app",
    "is_loopback_host",
    "parse_api_keys",
    "serve",
]

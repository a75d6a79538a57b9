"""The reference server of the licensed generator protocol (docs/protocol.md).

Needs the optional extra ``provsdk[server]`` (FastAPI and uvicorn); nothing outside this
package imports it, so the core library works without them.
"""

from provsdk.server.app import create_app
from provsdk.server.config import API_KEYS_ENV, LicenceOffer, ServerConfig, parse_api_keys
from provsdk.server.run import ServerThread, serve

__all__ = [
    "API_KEYS_ENV",
    "LicenceOffer",
    "ServerConfig",
    "ServerThread",
    "create_app",
    "parse_api_keys",
    "serve",
]

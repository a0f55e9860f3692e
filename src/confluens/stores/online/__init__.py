"""Online stores: each entity's latest window state, for fast reads."""

from confluens.stores.online.embedded import EmbeddedOnlineStore
from confluens.stores.online.protocol import OnlineStore

__all__ = ["EmbeddedOnlineStore", "OnlineStore"]

from tests.hub.access.fixtures import hub, keys

__all__ = ["hub", "keys"]

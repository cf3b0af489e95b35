"""Who may see what: downstream apps (consumers), their credentials and tokens, and the policy a request runs under."""

from hub.access.keys import AccessKeys
from hub.access.policy import FieldMode, Policy

__all__ = ["AccessKeys", "FieldMode", "Policy"]

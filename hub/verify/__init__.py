"""核验, verification without disclosure: a claim about a person or an organization answered yes or no.

claims.py checks a claim against the read model (one query, keyed lookups, nothing returned but a bool);
limits.py counts tries per consumer and per subject in the store; service.py runs one try (grant, limit,
check, audit row) as steps that the API (hub/api/routes/verify.py) and the CLI (`hub verify`) both run.
"""

from hub.verify.claims import Claim, Verdict, check, check_steps, subject_hash
from hub.verify.limits import Decision, Limiter, Limits, StoreLimiter
from hub.verify.service import Attempt, verify_steps

__all__ = ["Attempt", "Claim", "Decision", "Limiter", "Limits", "StoreLimiter", "Verdict", "check", "check_steps",
           "subject_hash", "verify_steps"]

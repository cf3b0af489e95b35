"""One 核验 try, as the API and the CLI run it: grant → rate limit → check → audit row, on one connection.

The try's audit row is written among the try's own queries (hub.audit.append_steps), after the answer is
known and before anything is answered, so a try that cannot be audited fails whole. Every try gets its row:
a kind outside the grant (403), a throttled try (429), an answered one (200). The row carries the claim's kind,
the subject's keyed hash (hub.verify.claims.subject_hash), the answer, and never the ID number, name or credit
code as given.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.access.policy import Policy
from hub.audit import AuditEntry
from hub.audit.chain import append_steps
from hub.store.steps import Steps
from hub.verify.claims import Claim, Verdict, check_steps, subject_hash
from hub.verify.limits import Decision, Limiter, Limits, buckets
from hub.views.reader import Reader


@dataclass(frozen=True)
class Attempt:
    """What a try came to: 200 with the verdict, 403 (kind not granted) or 429 (throttled, with the decision)."""

    status: int
    verdict: Verdict | None = None
    decision: Decision | None = None


def verify_steps(reader: Reader, policy: Policy, claim: Claim, *, limiter: Limiter, limits: Limits, action: str,
                 dialect: str, at: float) -> Steps[Attempt]:
    """A try of `claim` under `policy` at `at` (epoch seconds): its queries as steps (hub.store.steps)."""
    subject = subject_hash(reader.vault, claim)
    detail: dict[str, object] = {"claim": claim.kind, "subject": subject}
    if not policy.allows_claim(claim.kind):
        yield from append_steps(AuditEntry.of(policy, action, status=403, detail=detail), dialect)
        return Attempt(403)
    decision = yield from limiter.take_steps(buckets(limits, policy.actor, subject), at)
    if not decision.allowed:
        yield from append_steps(AuditEntry.of(policy, action, status=429,
                                              detail={**detail, "throttled": True}), dialect)
        return Attempt(429, decision=decision)
    verdict = yield from check_steps(reader, policy, claim)
    yield from append_steps(AuditEntry.of(policy, action, status=200, detail={**detail, "match": verdict.match}),
                            dialect)
    return Attempt(200, verdict, decision)

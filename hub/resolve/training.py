"""Learning the weights without labels, as Splink does, on arrays instead of SQL.

- u = P(level | different persons), from a random sample of record pairs (almost all of which
  are different persons);
- m = P(level | same person), by EM (Winkler 1988) in sessions: the candidate pairs one
  deterministic rule picks, learning the comparisons that rule does not use; EM runs on the
  distinct level patterns with their counts (a few thousand rows whatever the number of pairs);
- λ = the share of matches among candidate pairs, by EM with m and u fixed, capped.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

from hub.resolve.compare import Prepared, compute_levels
from hub.resolve.model import LevelWeights, Model
from hub.resolve.spec import EntitySpec, LevelMatrix

U_SAMPLE_PAIRS = 1_000_000
EM_MAX_ITERATIONS = 60
EM_TOLERANCE = 1e-6
MIN_SESSION_PAIRS = 20
MIN_LEVEL_PAIRS = 20
MAX_PRIOR = 0.9
"""λ among candidates can near 1 (an employer on every employee's row); capped so evidence decides."""
_SMOOTH = 0.5   # pseudo-count per level, so an unseen level gets a finite weight


def _distribution(levels: npt.NDArray[np.int8], n_levels: int, weights: npt.NDArray[np.float64] | None = None,
                  ) -> list[float]:
    """Share of each non-null level (index 0 keeps 1.0 as a placeholder), smoothed."""
    counts = np.bincount(levels, weights=weights, minlength=n_levels).astype(np.float64)[:n_levels]
    counts[1:] += _SMOOTH
    total = counts[1:].sum()
    shares = counts / total
    shares[0] = 1.0
    return [float(x) for x in shares]


def random_pairs(n: int, count: int, seed: int = 0) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """`count` uniformly drawn pairs of distinct rows (seeded: training is deterministic)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, size=count, dtype=np.int64)
    b = rng.integers(0, n - 1, size=count, dtype=np.int64)
    b = np.where(b >= a, b + 1, b)
    return a, b


def estimate_u(spec: EntitySpec, data: Prepared, sample: int = U_SAMPLE_PAIRS) -> list[list[float]]:
    n = len(data)
    count = int(min(sample, n * (n - 1) // 2))
    if count < 1:
        return [[1.0] * len(c.levels) for c in spec.comparisons]
    a, b = random_pairs(n, count)
    levels = compute_levels(spec.comparisons, data, a, b)
    return [_distribution(levels[:, k], len(c.levels)) for k, c in enumerate(spec.comparisons)]


def _patterns(levels: LevelMatrix) -> tuple[LevelMatrix, npt.NDArray[np.float64]]:
    """Distinct rows of the level matrix with their counts.

    Each row is read as one integer (levels are small, mixed radix) so that finding the distinct
    rows is a 1-D count, not a row-wise sort of millions of pairs.
    """
    if not len(levels):
        return levels[:0], np.zeros(0)
    radix = (levels.max(axis=0).astype(np.int64) + 1)
    place = np.concatenate([np.cumprod(radix[::-1])[::-1][1:], [1]]).astype(np.int64)
    numbers = levels.astype(np.int64) @ place
    codes, distinct = pd.factorize(numbers, sort=True)
    counts = np.bincount(codes, minlength=len(distinct)).astype(np.float64)
    patterns = (np.asarray(distinct, dtype=np.int64)[:, None] // place[None, :]) % radix[None, :]
    return patterns.astype(levels.dtype), counts


def _apply_fixed(spec: EntitySpec, m: list[list[float]]) -> None:
    for k, comparison in enumerate(spec.comparisons):
        fixed = {comparison.level_names.index(lvl): v for (c, lvl), v in spec.fixed_m.items() if c == comparison.name}
        if not fixed:
            continue
        row = np.asarray(m[k])
        free = [i for i in range(1, len(row)) if i not in fixed]
        rest = 1.0 - sum(fixed.values())
        row[free] = row[free] / row[free].sum() * rest
        for i, v in fixed.items():
            row[i] = v
        m[k] = [float(x) for x in row]


def _apply_prior_weights(spec: EntitySpec, levels: LevelMatrix, m: list[list[float]], u: list[list[float]],
                         seen: dict[int, npt.NDArray[np.bool_]]) -> None:
    """Levels the training sessions saw in fewer than MIN_LEVEL_PAIRS pairs take their documented prior
    weight (`seen[k]`: the pairs of the sessions that learned comparison k)."""
    for k, comparison in enumerate(spec.comparisons):
        mask = seen.get(k)
        rows = levels[mask, k] if mask is not None else levels[:0, k]
        counts = np.bincount(rows, minlength=len(comparison.levels))
        for index, name in enumerate(comparison.level_names):
            weight = spec.prior_weights.get((comparison.name, name))
            if weight is not None and counts[index] < MIN_LEVEL_PAIRS:
                m[k][index] = float(u[k][index] * 2.0**weight)


def _log_likelihood(patterns: LevelMatrix, table: list[list[float]]) -> npt.NDArray[np.float64]:
    out = np.zeros(len(patterns))
    for k, row in enumerate(table):
        logs = np.log(np.asarray(row))
        logs[0] = 0.0
        out += logs[patterns[:, k]]
    return out


def expectation_maximisation(levels: LevelMatrix, m: list[list[float]], u: list[list[float]], prior: float,
                             learn: set[int], fixed: Callable[[list[list[float]]], None] | None = None,
                             ) -> tuple[list[list[float]], float, int]:
    """EM on level patterns: m of the comparisons in `learn` and λ updated, u fixed.

    Comparisons not in `learn` are left out of the likelihood too (Splink does the same for the
    comparisons a training session is blocked on: they no longer vary freely).
    """
    patterns, counts = _patterns(levels)
    use = sorted(learn)
    log_u = _log_likelihood(patterns[:, use], [u[k] for k in use])
    iteration = 0
    while iteration < EM_MAX_ITERATIONS:
        iteration += 1
        log_m = _log_likelihood(patterns[:, use], [m[k] for k in use])
        odds = np.log(prior) - np.log1p(-prior) + log_m - log_u
        posterior = 1.0 / (1.0 + np.exp(-np.clip(odds, -700, 700)))
        weight = counts * posterior
        new_prior = float(np.clip(weight.sum() / counts.sum(), 1e-9, 1 - 1e-9))
        new_m = [_distribution(patterns[:, k], len(row), weight) if k in learn else row for k, row in enumerate(m)]
        if fixed is not None:
            fixed(new_m)
        change = max(abs(new_prior - prior), *(abs(x - y) for old, new in zip(m, new_m, strict=True)
                                               for x, y in zip(old, new, strict=True)))
        m, prior = new_m, new_prior
        if change < EM_TOLERANCE:
            break
    return m, prior, iteration


def train(spec: EntitySpec, data: Prepared, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64],
          levels: LevelMatrix | None = None) -> Model:
    """A model for `spec` learned from one frame and its candidate pairs (no labels).

    m is learned in sessions, as Splink trains: each session takes the candidate pairs one
    deterministic rule picks (the same ID; the same name and birth date) and runs EM on the
    comparisons that rule does not use; a comparison's m is the mean over the sessions that
    learned it. λ is then fitted on all candidate pairs with m and u fixed.
    """
    levels = compute_levels(spec.comparisons, data, a, b) if levels is None else levels
    u = estimate_u(spec, data)
    names = [c.name for c in spec.comparisons]
    seed = spec.seed_rule(levels)
    m = [_distribution(levels[seed, k], len(c.levels)) for k, c in enumerate(spec.comparisons)]
    fixed = functools.partial(_apply_fixed, spec)
    fixed(m)
    learned: dict[int, list[list[float]]] = {}
    seen: dict[int, npt.NDArray[np.bool_]] = {}
    sessions = []
    for session in spec.training_sessions:
        chosen = session.pairs(levels)
        learn = {k for k, name in enumerate(names) if name not in session.blocked_on}
        if chosen.sum() < MIN_SESSION_PAIRS:
            sessions.append({"session": session.name, "pairs": int(chosen.sum()), "skipped": True})
            continue
        session_m, session_prior, iterations = expectation_maximisation(
            levels[chosen], [list(row) for row in m], u, 0.9, learn, fixed)
        for k in learn:
            learned.setdefault(k, []).append(session_m[k])
            seen[k] = seen[k] | chosen if k in seen else chosen
        sessions.append({"session": session.name, "pairs": int(chosen.sum()), "em_iterations": iterations,
                         "match_share": round(session_prior, 4)})
    for k, rows in learned.items():
        m[k] = [float(x) for x in np.mean(np.asarray(rows), axis=0)]
    fixed(m)
    _apply_prior_weights(spec, levels, m, u, seen)
    prior = float(np.clip(seed.mean(), 1e-6, 1 - 1e-6)) if len(seed) else 1e-6
    if len(levels):
        _, prior, _ = expectation_maximisation(levels, m, u, prior, set(), fixed)
    prior = min(prior, MAX_PRIOR)
    comparisons = [LevelWeights(c.name, c.level_names, m[k], u[k]) for k, c in enumerate(spec.comparisons)]
    return Model(spec.entity_type, prior, comparisons, spec.upper, spec.lower, training={
        "records": len(data), "candidate_pairs": len(a), "seed_pairs": int(seed.sum()), "sessions": sessions,
        "u_sample_pairs": int(min(U_SAMPLE_PAIRS, len(data) * (len(data) - 1) // 2)),
    })

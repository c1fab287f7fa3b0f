"""Closed-form queueing results the simulator is validated against.

Pure numpy/scipy: planners also use these directly for a first staffing
guess. Times are seconds, rates per second, load in Erlangs (arrival rate
times mean handle time). Everything is computed in log space or through
recursions that never form a factorial, so results stay finite up to (and
well beyond) 5,000 servers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

__all__ = [
    "ErlangAResult",
    "erlang_a",
    "erlang_a_sl",
    "erlang_b",
    "erlang_c",
    "erlang_c_asa",
    "erlang_c_sl",
    "priority_waits",
]


def _check(servers: int, load: float) -> None:
    if servers < 1 or int(servers) != servers:
        raise ValueError(f"servers must be a positive integer, got {servers!r}")
    if not math.isfinite(load) or load < 0:
        raise ValueError(f"load must be a finite non-negative number, got {load!r}")


def _log_inv_erlang_b(servers: int, load: float) -> float:
    """log(1 / B(servers, load)) by the inverse Erlang B recursion.

    1/B(k) = 1 + (k / a) / B(k - 1), carried in log space so that neither a
    factorial nor 1/B (which reaches 1e+4000 at light load) is ever formed.
    """
    if load == 0:
        return math.inf
    r = 0.0
    log_a = math.log(load)
    for k in range(1, servers + 1):
        r = float(np.logaddexp(0.0, math.log(k) - log_a + r))
    return r


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c (Erlang's loss formula).

    Reference: A. K. Erlang (1917); the recursion B(k) = a B(k-1) / (k + a
    B(k-1)) e.g. in Cooper, *Introduction to Queueing Theory*, 2nd ed. (1981),
    section 3.4. Evaluated as its inverse in log space.
    """
    _check(servers, load)
    return math.exp(-_log_inv_erlang_b(servers, load))


def erlang_c(servers: int, load: float) -> float:
    """Probability that a caller waits in M/M/c (Erlang C); 1.0 if load >= servers.

    Reference: Cooper (1981), section 3.5, using the identity
    1/C = 1 + (1 - rho)(1/B - 1) with rho = load / servers, which needs only
    Erlang B and so inherits its stability.
    """
    _check(servers, load)
    if load >= servers:
        return 1.0
    rho = load / servers
    inv_b_minus_1 = math.expm1(_log_inv_erlang_b(servers, load)) if load > 0 else math.inf
    return 1.0 / (1.0 + (1.0 - rho) * inv_b_minus_1)


def erlang_c_asa(servers: int, load: float, aht: float) -> float:
    """Mean wait of all callers in M/M/c: C * aht / (servers - load); inf if unstable.

    Reference: Cooper (1981), eq. 3.5.15 (the waiting time is 0 with
    probability 1 - C, else exponential with rate (c - a) / aht).
    """
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * aht / (servers - load)


def erlang_c_sl(servers: int, load: float, aht: float, t: float) -> float:
    """Service level of M/M/c: P(wait <= t) = 1 - C exp(-(c - a) t / aht).

    Reference: Cooper (1981), eq. 3.5.14. Returns 0.0 when unstable.
    """
    if load >= servers:
        return 0.0
    return 1.0 - erlang_c(servers, load) * math.exp(-(servers - load) * t / aht)


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady-state measures of M/M/c+M (Erlang A).

    ``asa`` is the mean wait of answered callers; ``service_level`` is the
    share of all offered callers answered within the target time.
    """

    p_wait: float
    p_abandon: float
    asa: float
    service_level: float
    mean_wait: float  # over all callers, abandoners' time-to-abandon included


def _log_a(x: float, z: float) -> float:
    """log A(x, z), A(x, z) = sum_j z^j / ((x+1)...(x+j)) = x e^z z^-x gamma(x, z).

    Summed as a log-space series (terms are the stationary queue-length
    weights, so the sum has the same range as the queue); equal to the
    incomplete-gamma form of Mandelbaum & Zeltyn but immune to underflow of
    the regularised gamma when z << x.
    """
    if z <= 0:
        return 0.0
    jmax = int(max(0.0, z - x) + 12.0 * math.sqrt(x + z + 1.0) + 60)
    j = np.arange(1, jmax + 1, dtype=float)
    terms = np.cumsum(math.log(z) - np.log(x + j))
    return float(special.logsumexp(np.concatenate(([0.0], terms))))


def _log_a_gamma(x: float, z: float) -> float:
    """The closed incomplete-gamma form of log A(x, z), for cross-checks."""
    return z - x * math.log(z) + float(special.gammaln(x + 1)) + math.log(special.gammainc(x, z))


def erlang_a(
    servers: int, arrival_rate: float, aht: float, mean_patience: float, t: float
) -> ErlangAResult:
    """Erlang A: M/M/c with exponential patience (Palm's model).

    With x = c mu / theta, y = lambda / theta, A = A(x, y) and B = Erlang B:
    P(W > 0) = A B / (1 + (A - 1) B) and
    P(Ab) = P(W > 0) (1 / (rho A) + 1 - 1 / rho)
    (Garnett, Mandelbaum & Reiman, "Designing a call center with impatient
    customers", MSOM 4(3), 2002; Mandelbaum & Zeltyn, "The M/M/n+G queue:
    summary of performance measures", 2009). The offered wait V of a waiting
    caller has P(V > s) = A(x, y e^{-theta s}) / A(x, y) *
    exp(y (1 - e^{-theta s}) - c mu s) (same sources; it solves
    d_t Phi + z d_z Phi = (z - x) Phi along characteristics). Service level
    and ASA integrate that tail against the caller's own patience.
    """
    if t < 0:
        raise ValueError("t must be >= 0")
    parts = _erlang_a_parts(servers, arrival_rate, aht, mean_patience)
    if parts is None:
        return ErlangAResult(0.0, 0.0, 0.0, 1.0, 0.0)
    p_wait, p_abandon, served_weight = parts
    theta = 1.0 / mean_patience
    # E[V; V < tau] = int_0^inf e^{-theta s} P(V > s) (1 - theta s) ds
    wait_served = integrate.quad(
        lambda s: served_weight(s) * (1.0 - theta * s), 0.0, math.inf, limit=400
    )[0]
    answered = 1.0 - p_abandon
    return ErlangAResult(
        p_wait=p_wait,
        p_abandon=p_abandon,
        asa=p_wait * wait_served / answered if answered > 0 else math.inf,
        service_level=_service_level(p_wait, served_weight, theta, t),
        mean_wait=p_abandon * mean_patience,
    )


def erlang_a_sl(
    servers: int, arrival_rate: float, aht: float, mean_patience: float, t: float
) -> tuple[float, float]:
    """(service_level, p_abandon) of Erlang A without the ASA integral (for staffing searches)."""
    parts = _erlang_a_parts(servers, arrival_rate, aht, mean_patience)
    if parts is None:
        return 1.0, 0.0
    p_wait, p_abandon, served_weight = parts
    return _service_level(p_wait, served_weight, 1.0 / mean_patience, t), p_abandon


def _service_level(
    p_wait: float, served_weight: Callable[[float], float], theta: float, t: float
) -> float:
    abandoned_by_t = theta * integrate.quad(served_weight, 0.0, t, limit=200)[0] if t > 0 else 0
    served_in_t = max(0.0, 1.0 - served_weight(t) - abandoned_by_t)
    return (1.0 - p_wait) + p_wait * served_in_t


def _erlang_a_parts(
    servers: int, arrival_rate: float, aht: float, mean_patience: float
) -> tuple[float, float, Callable[[float], float]] | None:
    """P(wait), P(abandon) and s -> e^{-theta s} P(V > s | wait); None at zero load."""
    _check(servers, arrival_rate * aht)
    if aht <= 0 or mean_patience <= 0:
        raise ValueError("aht and mean_patience must be > 0")
    load = arrival_rate * aht
    if load == 0:
        return None
    theta, cmu = 1.0 / mean_patience, servers / aht
    x, y, rho = cmu / theta, arrival_rate / theta, load / servers
    log_a = _log_a(x, y)
    # P(W>0) = 1 / (1 + (1/B - 1) / A), all in logs.
    log_ratio = math.log(math.expm1(_log_inv_erlang_b(servers, load))) - log_a
    p_wait = 1.0 / (1.0 + math.exp(min(log_ratio, 700.0)))
    p_abandon = p_wait * (1.0 / (rho * math.exp(log_a)) + 1.0 - 1.0 / rho)

    def served_weight(s: float) -> float:
        e = math.exp(-theta * s)
        return e * math.exp(_log_a(x, y * e) - log_a + y * (1.0 - e) - cmu * s)

    return p_wait, p_abandon, served_weight


def priority_waits(servers: int, arrival_rates: list[float], aht: float) -> list[float]:
    """Mean wait per class in M/M/c with non-preemptive priorities (class 0 first).

    Cobham's formula with the M/M/c residual: W_k = W0 / ((1 - s_{k-1})(1 - s_k)),
    s_k = sum_{i<=k} lambda_i aht / c, W0 = C(c, a) aht / c (Cobham, "Priority
    assignment in waiting line problems", OR 2(1), 1954; Kella & Yechiali,
    "Waiting times in the non-preemptive priority M/M/c queue", Stochastic
    Models 1(2), 1985). Classes that cannot be served in the long run get inf.
    """
    if any(r < 0 for r in arrival_rates):
        raise ValueError("arrival rates must be non-negative")
    load = sum(arrival_rates) * aht
    _check(servers, load)
    p_wait = erlang_c(servers, load) if load < servers else 1.0
    w0 = p_wait * aht / servers
    out: list[float] = []
    sigma_prev = 0.0
    for rate in arrival_rates:
        sigma = sigma_prev + rate * aht / servers
        out.append(w0 / ((1 - sigma_prev) * (1 - sigma)) if sigma < 1 else math.inf)
        sigma_prev = sigma
    return out

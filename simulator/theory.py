"""Closed-form queueing results the simulator is checked against.

Pure numpy/scipy. Units: times in seconds, rates per second, load in
Erlangs (arrival rate x mean handle time). Everything is computed in a way
that stays finite to thousands of servers: the Erlang B recursion instead of
factorials, log-space stationary probabilities, and scipy's regularised
incomplete beta function for waiting-time tails.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, gammaln

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

_TAIL_EPS = 1e-16  # stop the M/M/n+M state space when the tail weighs less than this
_MAX_QUEUE_STATES = 2_000_000


def _check(servers: int, load: float) -> None:
    if servers < 1 or int(servers) != servers:
        raise ValueError(f"servers must be a positive integer, got {servers!r}")
    if not load >= 0 or not math.isfinite(load):
        raise ValueError(f"load must be a finite number >= 0, got {load!r}")


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c (Erlang's loss formula).

    Uses the recursion B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)), which
    never overflows (Jagerman 1974, "Some properties of the Erlang loss
    function", Bell System Technical Journal 53(3)).
    """
    _check(servers, load)
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C).

    C = c B / (c - A (1 - B)) with B = Erlang B (Cooper, "Introduction to
    Queueing Theory", 2nd ed., 1981, eq. 3.2.8). 1 when the system is
    overloaded (A >= c): every arrival waits.
    """
    _check(servers, load)
    if load >= servers:
        return 1.0
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


def erlang_c_asa(servers: int, load: float, aht: float) -> float:
    """Mean wait of all arrivals in M/M/c: C * aht / (c - A) (Cooper eq. 3.2.11).

    In M/M/c every caller is eventually answered, so this is also the ASA.
    """
    if load >= servers:
        return math.inf
    return erlang_c(servers, load) * aht / (servers - load)


def erlang_c_sl(servers: int, load: float, aht: float, t: float) -> float:
    """Fraction answered within ``t``: 1 - C exp(-(c - A) t / aht) (Cooper eq. 3.2.10)."""
    if load >= servers:
        return 0.0
    return 1.0 - erlang_c(servers, load) * math.exp(-(servers - load) * t / aht)


@dataclass(frozen=True, slots=True)
class ErlangAResult:
    """Steady state of M/M/n+M (Erlang A).

    ``asa`` is the mean wait of answered calls; ``service_level`` is the
    fraction of *all offered* calls answered within ``t``.
    """

    p_wait: float
    p_abandon: float
    asa: float
    service_level: float
    mean_wait: float
    mean_queue: float


def _mmn_m_probabilities(n: int, lam: float, mu: float, theta: float) -> np.ndarray:
    """Stationary distribution of the M/M/n+M birth-death chain, states 0..n+K.

    Log-space products; the queue part is truncated where its remaining
    mass falls below ``_TAIL_EPS`` of the total.
    """
    k = np.arange(n + 1, dtype=float)
    log_p = k * math.log(lam / mu) - gammaln(k + 1) if lam > 0 else np.where(k == 0, 0.0, -np.inf)
    tail: list[float] = []
    log_term = float(log_p[-1])
    peak = float(np.max(log_p))
    j = 1
    while j <= _MAX_QUEUE_STATES:
        log_term += math.log(lam) - math.log(n * mu + j * theta)
        tail.append(log_term)
        # The ratio of successive terms only falls, so the rest is bounded geometrically.
        if log_term - peak < math.log(_TAIL_EPS) and lam < n * mu + j * theta:
            break
        j += 1
    log_all = np.concatenate([log_p, np.asarray(tail)])
    weights = np.exp(log_all - np.max(log_all))
    return np.asarray(weights / weights.sum())


def erlang_a(
    servers: int, arrival_rate: float, aht: float, mean_patience: float, t: float
) -> ErlangAResult:
    """M/M/n+M: Poisson arrivals, exponential service and exponential patience.

    The stationary distribution of the birth-death chain (birth lambda,
    death min(k,n) mu + max(k-n,0) theta) is computed exactly in log space
    (Palm 1943; Garnett, Mandelbaum & Reiman 2002, "Designing a call
    center with impatient customers", MSOM 4(3)). A caller arriving (PASTA)
    with i callers ahead is answered with probability S_i = x / (x + i + 1),
    x = n mu / theta, and its wait before service has the density
    K e^{-n mu s}(1 - e^{-theta s})^i (a hypoexponential with rates
    n mu + j theta), so answered-within-t is S_i I_{1-e^{-theta t}}(i+1, x+1)
    with I the regularised incomplete beta function (Mandelbaum & Zeltyn
    2007, "Service engineering in action: the Palm/Erlang-A queue").
    ``mean_patience = inf`` gives Erlang C.
    """
    _check(servers, arrival_rate * aht)
    if aht <= 0 or mean_patience <= 0:
        raise ValueError("aht and mean_patience must be > 0")
    load = arrival_rate * aht
    if arrival_rate == 0:  # nobody calls: nobody waits
        return ErlangAResult(0.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    if math.isinf(mean_patience):
        return _erlang_c_as_a(servers, load, aht, t)
    n, lam, mu, theta = servers, arrival_rate, 1.0 / aht, 1.0 / mean_patience
    if (lam - n * mu) / theta > _MAX_QUEUE_STATES / 2:
        return _fluid_overload(n, lam, mu, theta)
    p = _mmn_m_probabilities(n, lam, mu, theta)
    queue_p = p[n:]  # states with i = 0, 1, ... callers already queued
    i = np.arange(queue_p.size, dtype=float)
    x = n * mu / theta
    served = x / (x + i + 1)
    within = served * betainc(i + 1, x + 1, 1 - math.exp(-theta * t)) if t > 0 else 0 * i
    p_wait = float(queue_p.sum())
    p_served = float(p[:n].sum() + (queue_p * served).sum())
    mean_queue = float((i * queue_p).sum())
    answered_wait = _answered_wait_sums(n * mu, theta, queue_p.size)
    asa = float((queue_p * answered_wait).sum()) / p_served if p_served > 0 else math.inf
    return ErlangAResult(
        p_wait=p_wait,
        p_abandon=1.0 - p_served,
        asa=asa,
        service_level=float(p[:n].sum() + (queue_p * within).sum()),
        mean_wait=mean_queue / lam if lam > 0 else 0.0,
        mean_queue=mean_queue,
    )


def _fluid_overload(n: int, lam: float, mu: float, theta: float) -> ErlangAResult:
    """Overload with patience so long the queue settles at millions of callers.

    The exact chain would need more states than we hold, so we take its
    fluid limit (Whitt 2004, "Efficiency-driven heavy-traffic approximations
    for many-server queues with abandonments", Management Science 50(10)):
    the queue sits at q = (lam - n mu) / theta, every server is busy, the
    excess (lam - n mu) abandons, and a caller waits about q / (n mu) before
    service, far beyond any service-level threshold. Exact to within
    O(1/q) on each figure; never the silently truncated chain.
    """
    q = (lam - n * mu) / theta
    return ErlangAResult(
        p_wait=1.0,
        p_abandon=1.0 - n * mu / lam,
        asa=math.log1p(q * theta / (n * mu)) / theta,  # time to reach the head of the queue
        service_level=0.0,
        mean_wait=q / lam,
        mean_queue=q,
    )


def erlang_a_sl(
    servers: int, arrival_rate: float, aht: float, mean_patience: float, t: float
) -> tuple[float, float]:
    """(service level, P(abandon)) of Erlang A: what staffing searches test."""
    result = erlang_a(servers, arrival_rate, aht, mean_patience, t)
    return result.service_level, result.p_abandon


def _answered_wait_sums(service_rate: float, theta: float, size: int) -> np.ndarray:
    """E[W; answered] for a caller with i ahead, i = 0..size-1.

    With i ahead the next event comes at rate r_i = n mu + (i+1) theta; it
    moves the caller up (rate n mu + i theta) or ends its patience, and the
    caller is answered in the end with probability S_i = x / (x + i + 1).
    So M_i = S_i / r_i + (1 - theta / r_i) M_{i-1}, with M_{-1} = 0.
    """
    x = service_rate / theta
    out = np.empty(size)
    prev = 0.0
    for i in range(size):
        rate = service_rate + (i + 1) * theta
        prev = x / (x + i + 1) / rate + (1 - theta / rate) * prev
        out[i] = prev
    return out


def _erlang_c_as_a(servers: int, load: float, aht: float, t: float) -> ErlangAResult:
    c = erlang_c(servers, load)
    asa = erlang_c_asa(servers, load, aht)
    lam = load / aht
    return ErlangAResult(
        p_wait=c,
        p_abandon=0.0,
        asa=asa,
        service_level=erlang_c_sl(servers, load, aht, t),
        mean_wait=asa,
        mean_queue=lam * asa,
    )


def priority_waits(servers: int, arrival_rates: Sequence[float], aht: float) -> list[float]:
    """Mean queueing wait per class in M/M/c with non-preemptive priorities.

    Class 0 is served first; all classes share one exponential service
    time. W_k = C(c, A) / (c mu (1 - s_{k-1})(1 - s_k)), s_k = sum of
    lambda_j / (c mu) over classes j <= k (Cobham 1954, "Priority assignment
    in waiting line problems", JORSA 2(1); Gross & Harris, "Fundamentals of
    Queueing Theory", 3rd ed., sec. 3.4). Classes past saturation wait
    forever (``inf``).
    """
    rates = [float(r) for r in arrival_rates]
    load = sum(rates) * aht
    _check(servers, load)
    capacity = servers / aht
    base = erlang_c(servers, load) / capacity
    waits: list[float] = []
    sigma_prev = 0.0
    for rate in rates:
        sigma = sigma_prev + rate / capacity
        waits.append(base / ((1 - sigma_prev) * (1 - sigma)) if sigma < 1 else math.inf)
        sigma_prev = sigma
    return waits

"""How long the lifetime-value fits take, and whether they recover known parameters.

    .venv/bin/python benchmarks/clv_fit.py [--customers 50000] [--seed 2025]

Simulates customers from the BG/NBD and Gamma-Gamma processes with the parameters published for
the CDNOW sample (r = 0.243, α = 4.414, a = 0.793, b = 2.426 in weeks; p = 6.25, q = 3.74,
v = 15.44), each observed for a uniform 1–52 weeks, then times :func:`lib.clv.fit_bgnbd` and
:func:`lib.clv.fit_gamma_gamma` on them. The floor (issue 19): a fit on 50,000 customers in
under 20 s. The baseline in the same run is the same fits on the CDNOW sample's size (2,357
customers), so the ratio says how the fit scales. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lib import clv  # noqa: E402

BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "v": 15.44}
FLOOR_SECONDS = 20.0
CDNOW_CUSTOMERS = 2357


def simulate(n: int, seed: int) -> pd.DataFrame:
    """``user_id, frequency, recency, T, monetary_value`` of ``n`` customers drawn from the
    models: while alive a customer buys at rate λ ~ Gamma(r, α) a week and drops out after a
    purchase with probability p ~ Beta(a, b); a repeat purchase's amount is Gamma(p, ν),
    ν ~ Gamma(q, v)."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(BG_NBD["r"], 1 / BG_NBD["alpha"], n)
    drop = rng.beta(BG_NBD["a"], BG_NBD["b"], n)
    horizon = rng.uniform(1, 52, n)
    frequency, recency = np.zeros(n), np.zeros(n)
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():  # one purchase per customer still buying, all customers at once
        clock[alive] += rng.exponential(1 / rate[alive])
        alive &= clock <= horizon
        frequency[alive] += 1
        recency[alive] = clock[alive]
        alive &= rng.random(n) >= drop
    nu = rng.gamma(GAMMA_GAMMA["q"], 1 / GAMMA_GAMMA["v"], n)
    mean_spend = np.array(
        [
            rng.gamma(GAMMA_GAMMA["p"], 1 / v, int(k)).mean() if k else np.nan
            for v, k in zip(nu, frequency, strict=True)
        ]
    )
    return pd.DataFrame(
        {
            "user_id": np.arange(n).astype(str),
            "frequency": frequency,
            "recency": recency,
            "T": horizon,
            "monetary_value": mean_spend,
        }
    )


def timed_fits(summary: pd.DataFrame) -> tuple[float, clv.BgNbd, clv.GammaGamma]:
    started = time.perf_counter()
    bgnbd = clv.fit_bgnbd(summary)
    gamma_gamma = clv.fit_gamma_gamma(summary)
    return time.perf_counter() - started, bgnbd, gamma_gamma


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    base_seconds, _, _ = timed_fits(simulate(CDNOW_CUSTOMERS, args.seed))
    seconds, bgnbd, gamma_gamma = timed_fits(simulate(args.customers, args.seed))
    print(
        f"| customers | fit s | vs {CDNOW_CUSTOMERS:,} customers | floor | "
        + " | ".join(BG_NBD | GAMMA_GAMMA)
        + " |"
    )
    print("|---" * (4 + len(BG_NBD) + len(GAMMA_GAMMA)) + "|")
    fitted = [bgnbd.r, bgnbd.alpha, bgnbd.a, bgnbd.b, gamma_gamma.p, gamma_gamma.q, gamma_gamma.v]
    truth = [*BG_NBD.values(), *GAMMA_GAMMA.values()]
    cells = [f"{f:.3f} ({t:g})" for f, t in zip(fitted, truth, strict=True)]
    verdict = "met" if seconds <= FLOOR_SECONDS else "missed"
    print(
        f"| {args.customers:,} | {seconds:.2f} | {seconds / base_seconds:.1f}× | "
        f"{FLOOR_SECONDS:g} s: {verdict} | " + " | ".join(cells) + " |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

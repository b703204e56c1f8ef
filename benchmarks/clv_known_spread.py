"""How far a lifetime-value fit of the simulator's known-CLV cohort strays from the truth, seed by
seed: the measurement behind the tolerances of tests/test_clv_known.py.

    .venv/bin/python benchmarks/clv_known_spread.py [--customers 4000] [--seeds 12]

Each seed makes a small shop (150,000 events) with the cohort (lib/simulate.py, ``known_clv``),
fits BG/NBD and Gamma-Gamma (lib/clv.py) on the cohort's orders up to 2025-11-14 and checks the
forecast on a 30-day holdout. Prints each fit and the mean and standard deviation over the seeds,
to compare with the true parameters (``simulate.KNOWN_CLV_BGNBD``, ``KNOWN_CLV_GAMMA_GAMMA``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import ibis
import pandas as pd

from lib import clv, simulate
from lib.periods import Period

EVENTS = 150_000
PERIOD = Period("2025-10-15", "2025-11-14", "Asia/Shanghai")


def fit_seed(folder: Path, seed: int, customers: int) -> dict[str, float]:
    """One shop's cohort fitted: the parameters, the mean dropout and spend, the holdout."""
    simulate.generate(folder, seed=seed, target_events=EVENTS, known_clv=customers)
    ids = simulate.known_clv_users(EVENTS, None, customers)
    orders = ibis.duckdb.connect().read_parquet(folder / "orders.parquet")
    cohort = orders.filter(orders.user_id.isin(ids))
    summary = clv.customer_summary(cohort, PERIOD)
    bg, gg = clv.fit_bgnbd(summary), clv.fit_gamma_gamma(summary)
    check = clv.validation(cohort, PERIOD, holdout_days=30)
    return {
        "seed": seed,
        "r": bg.r,
        "alpha": bg.alpha,
        "a": bg.a,
        "b": bg.b,
        "dropout": bg.a / (bg.a + bg.b),
        "p": gg.p,
        "q": gg.q,
        "v": gg.v,
        "spend": gg.p * gg.v / (gg.q - 1),
        "actual": check["actual_purchases"].sum(),
        "predicted": check["predicted_purchases"].sum(),
        "naive": check["naive_purchases"].sum(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=4_000)
    parser.add_argument("--seeds", type=int, default=12)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            fit_seed(Path(tmp) / f"seed{seed}", seed, args.customers)
            for seed in range(1, args.seeds + 1)
        ]
    fits = pd.DataFrame(rows).set_index("seed")
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(fits.round(3))
    print(fits.describe().loc[["mean", "std"]].round(4))
    print("truth:", simulate.KNOWN_CLV_BGNBD, simulate.KNOWN_CLV_GAMMA_GAMMA)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Causal: the effect of a campaign on purchases, by difference-in-differences against its
randomised control group (statsmodels Poisson GLM, standard errors clustered by customer)."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from bank_assets.analytics import DATE, frame
from bank_assets.analytics.estimable import Note, NotEstimable
from bank_assets.analytics.panel import add_months, month_start, month_starts

PRE_MONTHS = 3
SCHEMA = {
    "as_of_month": DATE,
    "campaign_id": "string",
    "design": "string",
    "campaign_status": "string",
    "first_month": DATE,
    "last_month": DATE,
    "n_treated": "int64",
    "n_control": "int64",
    "purchase_rate_ratio": "float64",
    "ci_low": "float64",
    "ci_high": "float64",
    "p_value": "float64",
    "significant": "bool",
    "method": "string",
}

METHOD = (
    "Poisson GLM of purchases per customer-month on arm x period with month fixed effects, "
    "SE clustered by customer; effect = exp(arm:post) = rate ratio of the treated"
)


def _did(panel: pd.DataFrame) -> tuple[float, float, float, float]:
    """exp(coefficient of treated:post), its 95 % CI and p-value; NotEstimable when the design has
    no variation to identify it or the fit fails or is not finite."""
    # the model's own modules, not statsmodels.api / .formula.api (they import every model: ~0.25 s)
    from statsmodels.genmod.families import Poisson
    from statsmodels.genmod.generalized_linear_model import GLM
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    for column in ("treated", "post"):
        if panel[column].nunique() < 2:
            raise NotEstimable(f"{column} has no variation")
    if panel["n_purchases"].sum() == 0:
        raise NotEstimable("no purchases in the panel")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            fit = GLM.from_formula(
                "n_purchases ~ treated + treated:post + C(month_label)", data=panel, family=Poisson()
            ).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(panel["customer_id"])[0]})
        except (ConvergenceWarning, PerfectSeparationWarning, np.linalg.LinAlgError, ValueError) as e:
            raise NotEstimable(f"the Poisson fit failed ({type(e).__name__}: {e})") from None
    coef = fit.params["treated:post"]
    lo, hi = fit.conf_int().loc["treated:post"]
    out = float(np.exp(coef)), float(np.exp(lo)), float(np.exp(hi)), float(fit.pvalues["treated:post"])
    if not np.isfinite(out).all():
        raise NotEstimable("non-finite estimate or interval")
    return out


def campaign_effects(summary: pd.DataFrame, touches: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per campaign started by `as_of` (and with months before it): the campaign's effect
    over its months observed so far, plus a placebo on the pre-period (a fake start one month
    early, over pre-period months only: it must find nothing)."""
    rows, notes = [], []
    months = summary.assign(month=month_starts(summary["summary_month"]))
    for campaign_id, t in touches.groupby("campaign_id", sort=True):
        start = month_start(t["start_date"].iloc[0])
        end = month_start(t["end_date"].iloc[0])
        if start > as_of:
            continue
        first_pre = add_months(start, -PRE_MONTHS)
        last_post = min(add_months(end, -1), as_of)
        arms = t.drop_duplicates("customer_id").set_index("customer_id")["arm"]
        p = months[
            months["customer_id"].isin(arms.index) & (months["month"] >= first_pre) & (months["month"] <= last_post)
        ]
        p = p.assign(
            treated=(p["customer_id"].map(arms) == "TREATMENT").astype(int),
            post=(p["month"] >= start).astype(int),
            month_label=p["month"].astype(str),
        )
        pre_months = sorted(p.loc[p["post"] == 0, "month"].unique())
        if not pre_months or p["post"].sum() == 0:
            continue
        designs = [("campaign", p)]
        if len(pre_months) >= 2:
            fake = p[p["post"] == 0]
            fake = fake.assign(post=(fake["month"] == pre_months[-1]).astype(int))
            designs.append(("placebo_pre_period", fake))
        for design, d in designs:
            try:
                ratio, lo, hi, pval = _did(d)
            except NotEstimable as e:
                notes.append(Note(f"{campaign_id} {design}", e.reason))
                continue
            rows.append(
                {
                    "as_of_month": as_of,
                    "campaign_id": campaign_id,
                    "design": design,
                    "campaign_status": "RUNNING" if as_of < add_months(end, -1) else "FINISHED",
                    "first_month": min(d["month"]),
                    "last_month": max(d["month"]),
                    "n_treated": int(d.loc[d["treated"] == 1, "customer_id"].nunique()),
                    "n_control": int(d.loc[d["treated"] == 0, "customer_id"].nunique()),
                    "purchase_rate_ratio": ratio,
                    "ci_low": lo,
                    "ci_high": hi,
                    "p_value": pval,
                    "significant": bool(lo > 1 or hi < 1),
                    "method": METHOD,
                }
            )
    if not rows and not notes:
        notes.append(
            Note("campaign effects", f"no campaign with months before and after its start by {as_of:%Y-%m}", "history")
        )
    return frame(rows, SCHEMA, notes)

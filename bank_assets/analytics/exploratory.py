"""Exploratory: which districts look alike? Districts clustered on their customers' behaviour and
the bank's presence (scikit-learn k-means on standardised features, k picked by silhouette)."""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pandas as pd

from bank_assets.analytics import DATE, frame
from bank_assets.analytics.estimable import Note
from bank_assets.analytics.panel import month_starts

#: feature -> what it is (per district, the partition month's active customers)
FEATURES = {
    "active_customers": "active customers at month end",
    "mean_spend_pen": "mean spend (purchases and withdrawals) per active customer",
    "mean_balance_pen": "mean positive balance per active customer",
    "affluent_share": "share of AFFLUENT and PREMIUM customers",
    "complaints_per_100": "complaints per 100 active customers",
    "branches_and_atms": "branches and ATMs in the district",
}
K_RANGE = range(2, 6)
SEED = 0
SCHEMA = {
    "as_of_month": DATE,
    "district": "string",
    "cluster": "int64",
    **{f: "float64" for f in FEATURES},
    "latitude": "float64",
    "longitude": "float64",
    "k": "int64",
    "silhouette": "float64",
    "method": "string",
}
METHOD = (
    "k-means (scikit-learn, 10 starts, seed 0) on standardised district features; k in 2..5 with the best "
    "silhouette; clusters numbered by mean spend, 1 = highest"
)


def district_features(summary: pd.DataFrame, branches: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    month = summary[month_starts(summary["summary_month"]) == as_of]
    active = month[month["status"] == "ACTIVE"]
    g = active.groupby("district")
    out = pd.DataFrame(
        {
            "active_customers": g.size().astype(float),
            "mean_spend_pen": g["spend_pen"].apply(lambda s: float(s.astype(float).mean())),
            "mean_balance_pen": g["positive_balance_pen"].apply(lambda s: float(s.astype(float).mean())),
            "affluent_share": g["segment"].apply(lambda s: float(s.isin(["AFFLUENT", "PREMIUM"]).mean())),
            "complaints_per_100": g["n_complaints"].apply(lambda s: 100 * float(s.astype(float).mean())),
        }
    )
    valid = branches[pd.to_datetime(branches["valid_from"]) <= pd.Timestamp(as_of)]
    current = valid.sort_values("valid_from").drop_duplicates("branch_id", keep="last")
    b = current.groupby("district")
    out["branches_and_atms"] = b.size().reindex(out.index).fillna(0).astype(float)
    out["latitude"] = b["latitude"].apply(lambda s: float(s.astype(float).mean())).reindex(out.index)
    out["longitude"] = b["longitude"].apply(lambda s: float(s.astype(float).mean())).reindex(out.index)
    return out.sort_index()


def geographic_clusters(summary: pd.DataFrame, branches: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    feats = district_features(summary, branches, as_of)
    incomplete = feats[list(FEATURES)].isna().any(axis=1)
    notes = [Note(f"district {d}", "a feature is missing; left out of the clustering") for d in feats.index[incomplete]]
    feats = feats[~incomplete]
    distinct = len(feats[list(FEATURES)].drop_duplicates())
    if distinct < max(K_RANGE) + 1:
        why = f"{distinct} distinct district profile(s); k-means with k up to {max(K_RANGE)} needs {max(K_RANGE) + 1}"
        kind = "history" if feats.empty else "not_estimable"
        return frame([], SCHEMA, [*notes, Note("district clusters", why, kind)])
    x = StandardScaler().fit_transform(feats[list(FEATURES)].to_numpy())
    best = None
    for k in K_RANGE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # fewer distinct clusters than k: judged below
            labels = KMeans(n_clusters=k, n_init=10, random_state=SEED).fit_predict(x)
        if not 2 <= len(np.unique(labels)) <= len(x) - 1:
            continue  # silhouette is undefined
        score = float(silhouette_score(x, labels))
        if best is None or score > best[0] + 1e-12:
            best = (score, k, labels)
    if best is None:
        return frame([], SCHEMA, [*notes, Note("district clusters", "no k in 2..5 gives 2 or more clusters")])
    score, k, labels = best
    spend = pd.Series(feats["mean_spend_pen"].to_numpy()).groupby(labels).mean()
    renumber = {old: new for new, old in enumerate(spend.sort_values(ascending=False).index, start=1)}
    out = feats.reset_index().assign(
        as_of_month=as_of,
        cluster=[renumber[c] for c in labels],
        k=k,
        silhouette=score,
        method=METHOD,
    )
    return frame(out.sort_values(["cluster", "district"]).reset_index(drop=True), SCHEMA, notes)

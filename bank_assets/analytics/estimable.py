"""When a model cannot be estimated: a documented outcome, never an exception that fails a month.

Every estimator of ``bank_assets.analytics`` is total. Data a model cannot be estimated on
(an empty panel, too few events, a covariate with no variation, collinear covariates, perfect
separation, a fit that does not converge or returns non-finite numbers) gives:

* fewer rows (the estimates that cannot be made are left out, never filled with guesses), and
* a :class:`Note` per problem, attached to the returned DataFrame (:func:`with_notes`), which the
  asset records as metadata (``not_estimable``) and turns into a WARN on its ``well_formed`` check.
  A note of kind ``"history"`` says a method needs more months than the bank has yet (the first
  months of the range): recorded, but not a warning.

Covariates with no variation and collinear ones are dropped explicitly before the solver sees
them (:func:`estimable_columns`), and named: in the note and in the rows' ``method`` text.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: pandas ``DataFrame.attrs`` key holding a result's notes
NOTES = "not_estimable"


@dataclass(frozen=True)
class Note:
    """Why (part of) a result could not be estimated. kind: "history" (more months needed, expected
    at the start of the range), "dropped" (a covariate left out) or "not_estimable" (no estimate)."""

    what: str
    reason: str
    kind: str = "not_estimable"

    @property
    def warns(self) -> bool:
        return self.kind != "history"

    def __str__(self) -> str:
        return f"{self.what}: {self.reason}"


class NotEstimable(Exception):
    """Raised inside an estimator, caught by it, reported as a :class:`Note` (never leaves the module)."""

    def __init__(self, reason: str, kind: str = "not_estimable"):
        super().__init__(reason)
        self.reason = reason
        self.kind = kind


def with_notes(df: pd.DataFrame, notes: Iterable[Note]) -> pd.DataFrame:
    df.attrs[NOTES] = [*df.attrs.get(NOTES, []), *notes]
    return df


def notes_of(df: pd.DataFrame) -> list[Note]:
    return list(df.attrs.get(NOTES, []))


def estimable_columns(data: pd.DataFrame, columns: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """(columns kept, {column dropped: why}) for a design with an intercept. Kept in order: a column
    with no variation is dropped, and so is one that is a linear combination of the intercept and
    the columns kept before it (so the first column, e.g. the treatment, has priority)."""
    kept: list[str] = []
    dropped: dict[str, str] = {}
    design = np.ones((len(data), 1))
    for c in columns:
        x = data[c].astype(float).to_numpy()
        if len(x) == 0 or np.nanmin(x) == np.nanmax(x):
            dropped[c] = f"no variation: every value is {x[0]:g}" if len(x) else "no rows"
            continue
        candidate = np.column_stack([design, x])
        if np.linalg.matrix_rank(candidate) < candidate.shape[1]:
            dropped[c] = "collinear with the intercept and " + (", ".join(kept) or "nothing else")
            continue
        design, kept = candidate, [*kept, c]
    return kept, dropped


def with_dropped(method: str, dropped: dict[str, str]) -> str:
    """A row's method text naming every covariate dropped before the fit, and why."""
    return "; ".join([method, *(f"dropped {c} ({why})" for c, why in dropped.items())])


def require_events(y: pd.Series, minimum: int, label: str = "events") -> None:
    """Both outcomes present, and at least `minimum` of the rarer one."""
    n = len(y)
    if n == 0:
        raise NotEstimable("no observations", kind="history")
    events = int(y.sum())
    rarer = min(events, n - events)
    if rarer < minimum:
        raise NotEstimable(f"{events} {label} in {n} observations; the model needs at least {minimum} of each outcome")


def fit_logit(
    data: pd.DataFrame, outcome: str, columns: Sequence[str], min_events: int
) -> tuple[object, dict[str, str]]:
    """statsmodels Logit of `outcome` on an intercept and the estimable `columns`: (fit, dropped).

    Raises NotEstimable for too few events, no estimable column, perfect separation, a fit that
    does not converge, or non-finite estimates and standard errors."""
    from statsmodels.discrete.discrete_model import Logit  # not statsmodels.api: it imports every model
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        HessianInversionWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )
    from statsmodels.tools.tools import add_constant

    usable = data[[outcome, *columns]].astype(float).replace([np.inf, -np.inf], np.nan).dropna()
    if usable.empty and not data.empty:
        raise NotEstimable(f"every one of {len(data)} observations has a missing or infinite value")
    data = usable  # rows with a missing value cannot enter the likelihood (complete cases)
    y = data[outcome]
    require_events(y, min_events)
    kept, dropped = estimable_columns(data, columns)
    if not kept:
        raise NotEstimable(with_dropped("no covariate can be estimated", dropped))
    x = add_constant(data[kept].astype(float), has_constant="add")
    with warnings.catch_warnings():
        for w in (PerfectSeparationWarning, ConvergenceWarning, HessianInversionWarning):
            warnings.simplefilter("error", w)
        try:
            fit = Logit(y, x).fit(disp=0, maxiter=200)
        except (PerfectSeparationError, PerfectSeparationWarning) as e:
            raise NotEstimable(f"perfect separation ({e})") from None
        except (ConvergenceWarning, HessianInversionWarning) as e:
            raise NotEstimable(f"the fit did not converge ({e})") from None
        except np.linalg.LinAlgError as e:
            raise NotEstimable(f"singular design ({e})") from None
    if not fit.mle_retvals.get("converged", True):
        raise NotEstimable(f"the fit did not converge in {fit.mle_retvals.get('iterations')} iterations")
    finite = np.isfinite(np.asarray(fit.params)).all() and np.isfinite(np.asarray(fit.bse)).all()
    if not finite:
        raise NotEstimable("non-finite estimates or standard errors (quasi-separation)")
    return fit, dropped

"""Reference data: branches and ATMs, merchants, daily fx rates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa

from bank_assets.contracts import SPEND_CATEGORIES
from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic.loans import TERMS
from bank_assets.synthetic.months import days_in_month, month_start_days
from bank_assets.synthetic.params import EPOCH, GeneratorConfig, Scale, policy_rate
from bank_assets.synthetic.pools import DISTRICT_WEIGHTS, DISTRICTS, LIMA_DISTRICTS, build_pools

STREAM_BRANCHES = 11
STREAM_MERCHANTS = 12
STREAM_FX = 13
MCC = {
    "RETAIL": "5311",
    "ENTERTAINMENT": "7832",
    "GROCERIES": "5411",
    "RESTAURANTS": "5812",
    "TRANSPORT": "4121",
    "HEALTH": "5912",
    "TRAVEL": "4722",
    "EDUCATION": "8220",
    "OTHER": "5999",
}
FX_BASE = {"USD": 3.75, "EUR": 4.05}


@dataclass(frozen=True)
class Branches:
    district: np.ndarray  # index into DISTRICTS, sorted
    kind: np.ndarray  # 0 branch, 1 atm
    lat_units: np.ndarray  # 1e-6 degrees
    lon_units: np.ndarray
    by_district: tuple[np.ndarray, np.ndarray]  # (count, first offset) per district

    def table(self) -> pa.Table:
        n = len(self.district)
        names = np.array(DISTRICTS, dtype=object)[self.district]
        kind = np.where(self.kind == 0, "Agencia ", "Cajero ")
        return pa.table(
            {
                "branch_id": af.ids("B", np.arange(1, n + 1), 4),
                "branch_name": af.texts(kind + names + " " + (np.arange(n) % 7 + 1).astype(str)),
                "branch_type": af.labels(("BRANCH", "ATM"), self.kind),
                "district": af.texts(names),
                "zone": af.texts(np.array([LIMA_DISTRICTS[d][0] for d in DISTRICTS], object)[self.district]),
                "latitude": af.decimals(self.lat_units, 6),
                "longitude": af.decimals(self.lon_units, 6),
            }
        )


@lru_cache(maxsize=8)
def branches(seed: int) -> Branches:
    """1-3 branches and 2-5 ATMs per district, denser where more people live."""
    rng = np.random.default_rng([seed, STREAM_BRANCHES])
    rows = []
    for d, weight in enumerate(DISTRICT_WEIGHTS):
        n_branch = 1 + int(rng.random() < weight * 20) + int(rng.random() < weight * 10)
        n_atm = int(rng.integers(2, 6))
        rows += [(d, 0)] * n_branch + [(d, 1)] * n_atm
    district = np.array([r[0] for r in rows])
    kind = np.array([r[1] for r in rows])
    centre = np.array([LIMA_DISTRICTS[DISTRICTS[d]][1:] for d in district])
    jitter = rng.uniform(-0.008, 0.008, (len(rows), 2))
    latlon = np.round((centre + jitter) * 1e6).astype(np.int64)
    counts = np.bincount(district, minlength=len(DISTRICTS))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return Branches(district, kind, latlon[:, 0], latlon[:, 1], (counts, offsets))


@dataclass(frozen=True)
class Merchants:
    category: np.ndarray  # index into SPEND_CATEGORIES, sorted
    district: np.ndarray
    name: np.ndarray
    by_category: tuple[np.ndarray, np.ndarray]  # (count, first offset) per category

    def table(self) -> pa.Table:
        n = len(self.category)
        return pa.table(
            {
                "merchant_id": af.ids("M", np.arange(1, n + 1), 6),
                "merchant_name": af.texts(self.name),
                "category": af.labels(SPEND_CATEGORIES, self.category),
                "mcc": af.labels([MCC[c] for c in SPEND_CATEGORIES], self.category),
                "district": af.labels(DISTRICTS, self.district),
            }
        )


def merchants(cfg: GeneratorConfig) -> Merchants:
    return _merchants(cfg.seed, cfg.scale, cfg.locale, tuple(cfg.behaviour.spend_mix[c][0] for c in SPEND_CATEGORIES))


@lru_cache(maxsize=8)
def _merchants(seed: int, scale: Scale, locale: str, shares: tuple[float, ...]) -> Merchants:
    rng = np.random.default_rng([seed, STREAM_MERCHANTS])
    n = scale.merchants
    p = np.array(shares) / sum(shares)
    # every category gets merchants; more where more is spent
    category = np.sort(np.concatenate([np.arange(len(p)), rng.choice(len(p), n - len(p), p=p)]))
    district = rng.choice(len(DISTRICTS), n, p=DISTRICT_WEIGHTS)
    companies = build_pools(seed, locale).companies
    name = companies[rng.integers(0, len(companies), n)]
    counts = np.bincount(category, minlength=len(p))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return Merchants(category, district, name, (counts, offsets))


def fx_rates(cfg: GeneratorConfig, m: int) -> pa.Table:
    """Daily PEN rates for USD and EUR (PEN itself is 1 and not listed)."""
    rng = np.random.default_rng([cfg.seed, STREAM_FX, m])
    n_days = days_in_month(m)
    first = month_start_days(np.array([m]))[0]
    day = np.tile(np.arange(first, first + n_days), 2)
    cur = np.repeat(np.array([1, 2]), n_days)
    rows = []
    for base in FX_BASE.values():
        level = base * (1 + 0.03 * np.sin(m / 5.0)) * (1 + rng.normal(0, 0.01))
        rows.append(level * np.exp(np.cumsum(rng.normal(0, 0.002, n_days))))
    rate_units = np.round(np.concatenate(rows) * 1e6).astype(np.int64)
    return pa.table(
        {
            "rate_date": af.dates(day),
            "currency": af.labels(("PEN", "USD", "EUR"), cur),
            "rate_to_pen": af.decimals(rate_units, 6),
        }
    )


#: the product catalogue: code -> (family, display name, monthly fee in PEN cents)
CATALOGUE = {
    "CHECKING": ("DEPOSIT", "Cuenta Sueldo", 0),
    "SAVINGS": ("DEPOSIT", "Cuenta de Ahorros", 0),
    "CREDIT_CARD": ("CARD", "Tarjeta Clásica", 1_200),
    "TERM_DEPOSIT": ("DEPOSIT", "Depósito a Plazo", 0),
    "PERSONAL": ("LOAN", "Préstamo Personal", 0),
    "AUTO": ("LOAN", "Crédito Vehicular", 0),
    "MORTGAGE": ("LOAN", "Crédito Hipotecario", 0),
    "SME": ("LOAN", "Capital de Trabajo", 2_500),
}
#: annual rate of the deposit and card products over the policy rate (repriced in January and July)
RATE_SPREAD = {"CHECKING": None, "SAVINGS": -0.035, "CREDIT_CARD": 0.48, "TERM_DEPOSIT": -0.008}


def products(cfg: GeneratorConfig, m: int) -> pa.Table:
    """The product catalogue as priced in month m. Deposit and card rates follow the policy rate
    of the last repricing (January or July); a loan's rate is its best-score list rate."""
    repriced = m - m % 6
    codes = list(CATALOGUE)
    rates, max_terms = [], []
    for code in codes:
        if code in TERMS:
            rates.append(TERMS[code][2][0] + policy_rate(repriced) - policy_rate(EPOCH))
            max_terms.append(TERMS[code][1][1])
        else:
            spread = RATE_SPREAD[code]
            rates.append(0.0 if spread is None else max(0.0, policy_rate(repriced) + spread))
            max_terms.append(0)
    return pa.table(
        {
            "product_code": af.texts(np.array(codes, dtype=object)),
            "product_name": af.texts(np.array([CATALOGUE[c][1] for c in codes], dtype=object)),
            "product_family": af.texts(np.array([CATALOGUE[c][0] for c in codes], dtype=object)),
            "annual_rate": af.decimals(np.round(np.array(rates) * 1e6).astype(np.int64), 6),
            "monthly_fee": af.decimals(np.array([CATALOGUE[c][2] for c in codes], dtype=np.int64), 2),
            "max_term_months": af.ints(np.array(max_terms, dtype=np.int64)),
        }
    )

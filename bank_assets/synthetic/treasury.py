"""The treasury's month-end positions (the HQLA side of the liquidity coverage ratio).

Twelve positions keep their ids from month to month; each is a declared share of the month's
deposit base (the sum of the month's positive CHECKING, SAVINGS and TERM_DEPOSIT balances, taken
as PEN whatever the account's currency: a scale, not a valuation), drifting by a seeded ±3 % a
month. USD positions are that PEN amount at the month's last USD rate. One sovereign bond is
partly pledged in a repo (a second row, encumbered YES). With these shares the LCR sits around
140-160 %. Planted: at each half-year end (June, December) the treasury holds
``HALF_YEAR_EQUITY_SHARE`` in equities (Level 2B), so that Basel's 15 % cap on Level 2B binds in
those months and only those (docs/regulatory.md; tests/test_regulatory.py).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bank_assets.synthetic.months import month_start
from bank_assets.synthetic.params import GeneratorConfig

STREAM_TREASURY = 91
#: the equities' share of the deposit base in June and December (the 15 % cap on Level 2B binds)
HALF_YEAR_EQUITY_SHARE = 0.200

#: id, instrument, asset class, HQLA level, currency, share of the deposit base, encumbered
POSITIONS = (
    ("TP001", "Vault cash", "CASH", "LEVEL_1", "PEN", 0.0186, "NO"),
    ("TP002", "BCRP current account (reserves)", "CENTRAL_BANK_RESERVES", "LEVEL_1", "PEN", 0.0558, "NO"),
    ("TP003", "BCRP certificates of deposit, 3 months", "CENTRAL_BANK_CERTIFICATE", "LEVEL_1", "PEN", 0.0248, "NO"),
    ("TP004", "Republic of Peru bond 2030", "SOVEREIGN_BOND", "LEVEL_1", "PEN", 0.0372, "NO"),
    ("TP005", "Republic of Peru bond 2034", "SOVEREIGN_BOND", "LEVEL_1", "PEN", 0.0186, "NO"),
    ("TP006", "Republic of Peru bond 2034 (repo collateral)", "SOVEREIGN_BOND", "LEVEL_1", "PEN", 0.0155, "YES"),
    ("TP007", "US Treasury note 2029", "SOVEREIGN_BOND", "LEVEL_1", "USD", 0.0124, "NO"),
    ("TP008", "Corporate bond AA, utilities 2031", "CORPORATE_BOND", "LEVEL_2A", "PEN", 0.0310, "NO"),
    ("TP009", "Covered mortgage bond AA 2029", "COVERED_BOND", "LEVEL_2A", "PEN", 0.0155, "NO"),
    ("TP010", "Corporate bond BBB-, mining 2032", "CORPORATE_BOND", "LEVEL_2B", "USD", 0.0186, "NO"),
    ("TP011", "Lima Stock Exchange index shares", "EQUITY", "LEVEL_2B", "PEN", 0.0124, "NO"),
    ("TP012", "Corporate bond BB, retail 2028", "CORPORATE_BOND", "NON_HQLA", "PEN", 0.0093, "NO"),
)


def deposit_base(accounts: pa.Table) -> float:
    """Sum of the month's positive deposit balances (CHECKING, SAVINGS, TERM_DEPOSIT)."""
    deposits = pc.is_in(accounts["product"], pa.array(["CHECKING", "SAVINGS", "TERM_DEPOSIT"]))
    balance = pc.cast(accounts["balance"], pa.float64())
    return float(pc.sum(pc.if_else(pc.and_(deposits, pc.greater(balance, 0)), balance, 0.0)).as_py() or 0.0)


def positions_table(cfg: GeneratorConfig, m: int, accounts: pa.Table, usd_rate: float) -> pa.Table:
    """The month-end positions, valued in cents (round half even on the generator's floats)."""
    rng = np.random.default_rng([cfg.seed, STREAM_TREASURY, m])
    base = deposit_base(accounts)
    share = np.array([p[5] for p in POSITIONS])
    if m % 12 in (5, 11):  # June, December
        share[[p[0] for p in POSITIONS].index("TP011")] = HALF_YEAR_EQUITY_SHARE
    pen = base * share * (1 + rng.uniform(-0.03, 0.03, len(POSITIONS)))
    usd = np.array([p[4] == "USD" for p in POSITIONS])
    value = np.where(usd, pen / usd_rate, pen)
    cents = np.round(value * 100).astype(np.int64)
    month_end = (month_start(m + 1) - dt.timedelta(days=1)).isoformat()
    return pa.table(
        {
            "position_id": [p[0] for p in POSITIONS],
            "snapshot_date": [month_end] * len(POSITIONS),
            "instrument": [p[1] for p in POSITIONS],
            "asset_class": [p[2] for p in POSITIONS],
            "hqla_level": [p[3] for p in POSITIONS],
            "currency": [p[4] for p in POSITIONS],
            "market_value": [f"{c // 100}.{c % 100:02d}" for c in cents],
            "encumbered": [p[6] for p in POSITIONS],
        }
    )

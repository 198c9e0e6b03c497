"""Clean landing tables for one month (or the reference tables), in contract column order."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from bank_assets.contracts import (
    ACCOUNT_PRODUCTS,
    CONTRACTS,
    CREDIT_DECISIONS,
    CREDIT_REASONS,
    CUSTOMER_STATUSES,
    SEGMENTS,
)
from bank_assets.synthetic import arrowfmt as af
from bank_assets.synthetic import credit, engagement, fraud, lifecycle, reference, treasury
from bank_assets.synthetic.loans import PRODUCTS, Instalments, Loans, instalments_due
from bank_assets.synthetic.months import month_start_days
from bank_assets.synthetic.params import EPOCH, GeneratorConfig
from bank_assets.synthetic.pools import DISTRICTS, EMAIL_DOMAINS, LIMA_DISTRICTS, build_pools, email_local_parts
from bank_assets.synthetic.population import EMPLOYMENTS, INCOME_BANDS, MAX_SLOTS, Snapshot, rng_for, snapshot
from bank_assets.synthetic.transactions import generate as generate_transactions

STREAM_BALANCES = 41
INCOME_BAND_EDGES = np.array([2_000_00, 5_000_00, 10_000_00])


class World:
    """The synthetic bank for one config: reference data plus per-month snapshots."""

    def __init__(self, cfg: GeneratorConfig) -> None:
        self.cfg = cfg
        self.pools = build_pools(cfg.seed, cfg.locale)
        self.branches = reference.branches(cfg.seed)
        self.merchants = reference.merchants(cfg)
        self._pool_sizes = (len(self.pools.first_names), len(self.pools.last_names), len(self.pools.streets))
        self._snapshots: dict[int, Snapshot] = {}
        self._applications: dict[int, credit.Applications] = {}
        self._loans: dict[int, Loans] = {}
        self._transactions: dict[int, pa.Table] = {}
        self._alerts: dict[int, dict[str, np.ndarray]] = {}
        self._due: dict[int, Instalments] = {}
        self._assignments: dict[int, engagement.Assignment] = {}

    # -- building blocks, cached per month ------------------------------------------------
    def snapshot(self, m: int) -> Snapshot:
        if m not in self._snapshots:
            self._snapshots[m] = snapshot(self.cfg, m, self.branches.by_district, self._pool_sizes)
        return self._snapshots[m]

    def applications(self, m: int) -> credit.Applications:
        if m not in self._applications:
            self._applications[m] = credit.applications(self.cfg, self.snapshot(m))
        return self._applications[m]

    def loans(self, m: int) -> Loans:
        if m not in self._loans:
            self._loans[m] = credit.loans_of(self.applications(m))
        return self._loans[m]

    def due(self, m: int) -> Instalments:
        if m not in self._due:
            book = [self.loans(o) for o in range(EPOCH, m)]
            self._due[m] = instalments_due(self.cfg, m, book, self.snapshot(m))
        return self._due[m]

    def assignment(self, index: int) -> engagement.Assignment:
        """Customers drawn for the index-th campaign of the plan, with their arm."""
        if index not in self._assignments:
            plan = self.cfg.behaviour.campaigns[index]
            self._assignments[index] = engagement.assign(self.cfg, index, plan, self.snapshot(plan.start))
        return self._assignments[index]

    def campaigns_running(self, m: int) -> list[engagement.Assignment]:
        plans = self.cfg.behaviour.campaigns
        return [self.assignment(i) for i, c in enumerate(plans) if c.start <= m < c.start + c.months]

    def campaigns_starting(self, m: int) -> list[engagement.Assignment]:
        return [self.assignment(i) for i, c in enumerate(self.cfg.behaviour.campaigns) if c.start == m]

    def transactions(self, m: int) -> pa.Table:
        if m not in self._transactions:
            snap = self.snapshot(m)
            factor = engagement.purchase_factor(snap, self.campaigns_running(m))
            self._transactions = {m: generate_transactions(self.cfg, snap, self.merchants, self.due(m), factor)}
        return self._transactions[m]

    def alerts(self, m: int) -> dict[str, np.ndarray] | None:
        """Fraud alerts raised on month m's purchases (None before the first month)."""
        if m < EPOCH:
            return None
        if m not in self._alerts:
            if len(self._alerts) > 2:
                self._alerts.clear()
            self._alerts[m] = fraud.alerts(self.cfg, m, self.transactions(m))
        return self._alerts[m]

    def economic_indicators(self, m: int) -> pa.Table:
        fx = reference.fx_rates(self.cfg, m)
        usd = fx.filter(pa.compute.equal(fx["currency"], "USD"))["rate_to_pen"]
        return engagement.indicators_table(self.cfg, m, usd.cast(pa.float64()).to_numpy())

    def treasury_positions(self, m: int) -> pa.Table:
        fx = reference.fx_rates(self.cfg, m)
        usd = fx.filter(pa.compute.equal(fx["currency"], "USD"))["rate_to_pen"].cast(pa.float64()).to_numpy()
        return treasury.positions_table(self.cfg, m, self.accounts(m), float(usd[-1]))

    # -- tables -----------------------------------------------------------------------------
    def table(self, name: str, m: int | None = None) -> pa.Table:
        """The clean table `name` for month m (None for reference tables)."""
        builders = {
            "customers": self.customers,
            "accounts": self.accounts,
            "transactions": self.transactions,
            "loans": self.loans_table,
            "loan_payments": self.loan_payments,
            "products": lambda m: reference.products(self.cfg, m),
            "credit_applications": self.credit_applications,
            "account_events": lambda m: lifecycle.events_table(self.cfg, self.snapshot(m)),
            "fraud_alerts": lambda m: fraud.milestones_table(m, self.alerts(m), self.alerts(m - 1)),
            "fx_rates": lambda m: reference.fx_rates(self.cfg, m),
            "economic_indicators": self.economic_indicators,
            "campaigns": lambda m: engagement.campaigns_table(self.cfg, m),
            "campaign_targets": lambda m: engagement.targets_table(self.campaigns_starting(m)),
            "customer_interactions": lambda m: engagement.interactions_table(self.cfg, self.snapshot(m)),
            "treasury_positions": self.treasury_positions,
        }
        if name == "merchants":
            t = self.merchants.table()
        elif name == "branches":
            t = self.branches.table()
        else:
            if m is None:
                raise ValueError(f"{name} is monthly: give a month")
            t = builders[name](m)
        expected = CONTRACTS[name].column_names
        assert t.column_names == expected, (name, t.column_names, expected)
        return t

    def customers(self, m: int) -> pa.Table:
        s = self.snapshot(m)
        p, pools = s.people, self.pools
        first = pools.first_names[p.first_name]
        last = pools.last_names[p.last_name]
        local = email_local_parts(first, last)
        emails = local + (p.num % 1000).astype(str).astype(object) + "@" + EMAIL_DOMAINS[p.email_domain]
        district = np.where(m >= p.move_month, p.new_district, p.district)
        zone = np.array([LIMA_DISTRICTS[d][0] for d in DISTRICTS], dtype=object)[district]
        segment = np.where(m >= p.upgrade_month, SEGMENTS.index("AFFLUENT"), p.segment)
        last_day = month_start_days(np.array([m + 1]))[0] - 1
        phone = pa.compute.binary_join_element_wise("+51 ", af.ints(p.phone), "")
        return pa.table(
            {
                "customer_id": af.ids("C", p.num, 10),
                "first_name": af.texts(first),
                "last_name": af.texts(last),
                "email": af.texts(emails),
                "national_id": af.ints(p.national_id),
                "phone": phone,
                "birth_date": af.dates(p.birth_day),
                "street": af.texts(pools.streets[p.street] + " " + p.street_no.astype(str).astype(object)),
                "district": af.labels(DISTRICTS, district),
                "city": af.texts(np.where(zone == "Callao", "Callao", "Lima")),
                "segment": af.labels(SEGMENTS, segment),
                "income_band": af.labels(
                    INCOME_BANDS, np.searchsorted(INCOME_BAND_EDGES, p.income_cents, side="right")
                ),
                "employment_status": af.labels(EMPLOYMENTS, p.employment),
                "signup_date": af.dates(p.signup_day),
                "status": af.labels(CUSTOMER_STATUSES, s.status),
                "snapshot_date": af.dates(np.full(len(p.num), last_day)),
            }
        )

    def accounts(self, m: int) -> pa.Table:
        s = self.snapshot(m)
        p = s.people
        next_month = month_start_days(np.array([m + 1]))[0]
        open_now = p.has_slot & (p.slot_open_day < next_month)
        who, slot = np.nonzero(open_now)  # row-major: sorted by customer then slot
        n = len(who)
        rng = rng_for(self.cfg, STREAM_BALANCES, m)
        level = p.balance_level[who, slot] * rng.lognormal(0, 0.25, n)
        dormant = s.status[who] != 0
        level[dormant & (slot != 2)] *= 0.15
        closed = s.status[who] == 2
        level[closed] = 0
        limit = np.where(slot == 2, p.card_limit_cents[who], 0)
        limit = np.where((slot == 2) & (m >= p.limit_increase_month[who]), limit * 3 // 2, limit)
        usd = (slot == 1) & p.savings_usd[who]
        close_day = month_start_days(np.array([m]))[0] + p.close_day[who]
        return pa.table(
            {
                "account_id": af.ids("A", p.num[who] * 10 + slot, 11),
                "customer_id": af.ids("C", p.num[who], 10),
                "branch_id": af.ids("B", p.home_branch[who] + 1, 4),
                "product": af.labels(ACCOUNT_PRODUCTS, slot),
                "currency": af.labels(("PEN", "USD"), usd.astype(np.int64)),
                "opened_date": af.dates(p.slot_open_day[who, slot]),
                "closed_date": af.dates(close_day, valid=closed),
                "credit_limit": af.decimals(limit, 2),
                "balance": af.decimals(np.round(level * 100).astype(np.int64), 2),
                "status": af.labels(CUSTOMER_STATUSES, s.status[who]),
                "snapshot_date": af.dates(np.full(n, next_month - 1)),
            }
        )

    def loans_table(self, m: int) -> pa.Table:
        ln = self.loans(m)
        return pa.table(
            {
                "loan_id": af.ids("L", ln.num, 12),
                "customer_id": af.ids("C", ln.customer_num, 10),
                "product": af.labels(PRODUCTS, ln.product),
                "principal": af.decimals(ln.principal_cents, 2),
                "currency": af.labels(("PEN", "USD"), ln.currency),
                "annual_rate": af.decimals(ln.rate_bp, 6),
                "term_months": af.ints(ln.term),
                "instalment": af.decimals(ln.instalment_cents, 2),
                "origination_date": af.dates(ln.origination_day),
            }
        )

    def credit_applications(self, m: int) -> pa.Table:
        a = self.applications(m)
        approved = a.approved
        return pa.table(
            {
                "application_id": af.ids("CA", a.num, 12),
                "customer_id": af.ids("C", a.customer_num, 10),
                "application_date": af.dates(a.day),
                "product": af.labels(PRODUCTS, a.product),
                "requested_amount": af.decimals(a.principal_cents, 2),
                "currency": af.labels(("PEN", "USD"), a.currency),
                "term_months": af.ints(a.term),
                "credit_score": af.ints(a.score),
                "debt_to_income": af.decimals(a.burden_ppm, 6),
                "decision": af.labels(CREDIT_DECISIONS, (~approved).astype(np.int64)),
                "decision_reason": af.labels(CREDIT_REASONS, a.reason),
                "loan_id": pa.compute.if_else(pa.array(approved), af.ids("L", a.num, 12), ""),
            }
        )

    def loan_payments(self, m: int) -> pa.Table:
        d = self.due(m)
        ln = d.loan
        paid = d.paid_day >= 0
        return pa.table(
            {
                "payment_id": pa.compute.binary_join_element_wise(
                    af.ids("P", ln.num, 12), af.ints(d.instalment_no), "-"
                ),
                "loan_id": af.ids("L", ln.num, 12),
                "instalment_no": af.ints(d.instalment_no),
                "due_date": af.dates(d.due_day),
                "paid_date": af.dates(np.where(paid, d.paid_day, 0), valid=paid),
                "amount_due": af.decimals(ln.instalment_cents, 2),
                "amount_paid": af.decimals(np.where(paid, ln.instalment_cents, 0), 2),
                "currency": af.labels(("PEN", "USD"), ln.currency),
                "days_past_due": af.ints(d.days_past_due),
            }
        )


assert len(ACCOUNT_PRODUCTS) == MAX_SLOTS

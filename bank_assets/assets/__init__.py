"""Dagster assets of every layer.

Backfill policies and partitioned asset checks are marked beta/preview in Dagster 1.13; this
project uses both on purpose (see bank_assets.assets.common), so their warnings are silenced.
"""

import warnings

from dagster import BetaWarning, PreviewWarning

warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

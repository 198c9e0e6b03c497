-- Category shares of a month's purchase spend add up to 1 (within rounding of 6 decimals).
{{ config(meta={'partition_column': 'report_month'}) }}
select report_month, sum(share_of_month) as total_share
from {{ ref('spend_by_category_monthly') }}
where {{ month_in_window('report_month') }}
group by report_month
having abs(sum(share_of_month) - 1) > 0.0001

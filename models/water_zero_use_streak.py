"""Polars rule for water_zero_use_streak: the longest run of consecutive zero-use months.

"Longest run of consecutive months" (gaps and islands) is clumsy in SQL and short in polars:
one row per account and month, sorted by account and month; a new run starts at an account's
first month, at a month with use, and after a missing month; the longest run of zero months
(the later one when two are as long) is the account's.

A month with several bills (a correction, a split reading) counts as zero use only when every
bill of it is zero (a missing reading counts as zero). A period that is not `YYYYMM…` with a
month 01–12 cannot be placed in the sequence and is left out.
"""

from __future__ import annotations

import polars as pl


def rule(inputs: dict[str, pl.LazyFrame], params: dict) -> pl.LazyFrame:
    accounts = inputs["water_accounts"].filter(
        pl.col("rate_type").fill_null("").str.contains(params["rate_types"])
        & ~pl.col("status").fill_null("").str.contains("销户")
    )
    year = pl.col("bill_period").str.slice(0, 4).cast(pl.Int32, strict=False)
    month = pl.col("bill_period").str.slice(4, 2).cast(pl.Int32, strict=False)
    months = (
        inputs["water_bills"]
        .select("account_no", "bill_period", "usage_m3")
        # only the accounts the rule reports on: the sort below holds what is left in memory
        .join(accounts.select("account_no"), on="account_no", how="semi")
        .with_columns(month=pl.when(month.is_between(1, 12)).then(year * 12 + month))
        .drop_nulls("month")
        .group_by("account_no", "month")
        .agg(
            zero=(pl.col("usage_m3").fill_null(0) == 0).all(),
            bill_period=pl.col("bill_period").min(),
        )
        .sort("account_no", "month")
        .with_columns(
            # The running count of run starts numbers the runs over the whole sorted frame:
            # plain column arithmetic, no window per account (a window nested in another, as
            # in `x.diff().over(a).cum_sum().over(a)`, costs time quadratic in the rows).
            run=(
                (pl.col("account_no") != pl.col("account_no").shift()).fill_null(True)
                | ~pl.col("zero")
                | (pl.col("month").diff() != 1).fill_null(True)
            ).cum_sum()
        )
    )
    runs = (
        months.filter(pl.col("zero"))
        .group_by("account_no", "run")
        .agg(
            months=pl.len(),
            first_period=pl.col("bill_period").min(),
            last_period=pl.col("bill_period").max(),
        )
        .group_by("account_no")
        .agg(pl.all().sort_by("months", "last_period", descending=True).first())
        .filter(pl.col("months") >= params["min_months"])
    )
    return runs.join(accounts, on="account_no", how="inner").select(
        "account_no",
        "holder_name",
        "address",
        "rate_type",
        pl.col("months").cast(pl.Int64).alias("zero_months"),
        "first_period",
        "last_period",
    )

"""Polars rule for water_zero_use_streak: the longest run of consecutive zero-use months.

"Longest run of consecutive months" (gaps and islands) is clumsy in SQL and short in polars:
sort each account's bills by period, start a new run whenever usage is not zero or a month is
missing, and take the longest run of zeros.
"""

from __future__ import annotations

import polars as pl


def rule(inputs: dict[str, pl.LazyFrame], params: dict) -> pl.LazyFrame:
    accounts = inputs["water_accounts"].filter(
        pl.col("rate_type").fill_null("").str.contains(params["rate_types"])
        & ~pl.col("status").fill_null("").str.contains("销户")
    )
    bills = (
        inputs["water_bills"]
        .select("account_no", "bill_period", "usage_m3")
        .with_columns(
            month=pl.col("bill_period").str.slice(0, 4).cast(pl.Int32, strict=False) * 12
            + pl.col("bill_period").str.slice(4, 2).cast(pl.Int32, strict=False),
            zero=pl.col("usage_m3").fill_null(0) == 0,
        )
        .drop_nulls("month")
        .sort("account_no", "month")
        .with_columns(
            # a new run starts when usage is not zero, or a month is missing in between
            run=((~pl.col("zero")) | (pl.col("month").diff().over("account_no").fill_null(1) != 1))
            .cum_sum()
            .over("account_no")
        )
    )
    runs = (
        bills.filter(pl.col("zero"))
        .group_by("account_no", "run")
        .agg(
            months=pl.len(),
            first_period=pl.col("bill_period").min(),
            last_period=pl.col("bill_period").max(),
        )
        .sort("months", "last_period", descending=True)
        .group_by("account_no")
        .first()
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

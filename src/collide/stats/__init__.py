"""The figures a procuratorate reports: per model (or 条线, or 承办人) and in total, as a table,
CSV/XLSX, a chart and a work-report paragraph. Definitions in `figures.py` (and the README)."""

from collide.stats.figures import COLUMNS, Figures, compute

__all__ = ["COLUMNS", "Figures", "compute"]

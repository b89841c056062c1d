"""The figures as a PNG: a funnel per model (线索 → 确认 → 立案 → 检察建议 → 已整改) and clues and
cases per month. matplotlib (Agg, no display) with a CJK font installed on the machine: Debian's
fonts-wqy-microhei or fonts-noto-cjk (.ci/run installs the first); none downloads at run time."""

from __future__ import annotations

from pathlib import Path

from collide.errors import CollideError, Problem
from collide.stats.figures import Figures

# Fonts that carry simplified Chinese, in the order tried.
CJK_FONTS = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "Source Han Sans SC",
    "Droid Sans Fallback",
    "Microsoft YaHei",
    "SimHei",
)
FUNNEL = ("线索数", "确认", "已立案", "检察建议", "已整改")
FUNNEL_LABELS = ("线索", "确认", "立案", "检察建议", "已整改")


def cjk_font() -> str:
    """The first installed font of CJK_FONTS; a clear message when there is none."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            return name
    raise CollideError(
        Problem(
            None,
            None,
            "no font with Chinese characters is installed, so the chart's labels cannot be drawn",
            "Install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei), then run again",
        )
    )


def render(f: Figures, path: Path, title: str = "大数据法律监督模型成效") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    models = [r for r in f.rows[:-1]]
    name_col = f.columns[1] if f.by == "model" else f.columns[0]
    with plt.rc_context({"font.family": [font], "axes.unicode_minus": False}):
        fig, (ax1, ax2) = plt.subplots(
            1, 2, figsize=(14, max(4.5, 0.9 * len(models) + 2)), width_ratios=[3, 2]
        )
        height = 0.8 / len(FUNNEL)
        colors = ("#4a78a8", "#6aa5d8", "#e39b3b", "#c8553d", "#5a9e6f")
        for k, (key, label, color) in enumerate(zip(FUNNEL, FUNNEL_LABELS, colors)):
            ys = [i + (k - (len(FUNNEL) - 1) / 2) * height for i in range(len(models))]
            values = [r[key] for r in models]
            ax1.barh(ys, values, height=height, color=color, label=label)
            for y, v in zip(ys, values):
                if v:
                    ax1.text(v, y, f" {v}", va="center", fontsize=8)
        ax1.set_yticks(range(len(models)), [str(r[name_col] or r[f.columns[0]]) for r in models])
        ax1.invert_yaxis()
        ax1.set_title("各模型线索转化（线索 → 确认 → 立案 → 检察建议 → 已整改）")
        top = max([r[FUNNEL[0]] for r in models] or [0])
        ax1.set_xlim(0, max(1, top) * 1.12)
        ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(FUNNEL), fontsize=9)
        months = [m for m, _, _ in f.months]
        xs = range(len(months))
        ax2.bar([x - 0.2 for x in xs], [c for _, c, _ in f.months], 0.4, label="新发现线索")
        ax2.bar([x + 0.2 for x in xs], [n for _, _, n in f.months], 0.4, label="立案")
        ax2.set_xticks(list(xs), months, rotation=45 if len(months) > 6 else 0)
        ax2.set_ylabel("件数")
        ax2.set_title("每月线索与立案")
        ax2.legend(fontsize=9)
        fig.suptitle(title, fontsize=15)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return path

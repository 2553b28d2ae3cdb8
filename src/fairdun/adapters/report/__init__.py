"""Reports written to files: the demo report as one self-contained HTML document."""

from fairdun.adapters.report.html import render_report, write_report

__all__ = ["render_report", "write_report"]

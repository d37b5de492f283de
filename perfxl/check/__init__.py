"""Check a returned workbook: read it, locate every field, recompute everything, list what disagrees."""

from perfxl.check.result import CheckResult, ItemResult
from perfxl.check.run import check_file, check_return

__all__ = ["CheckResult", "ItemResult", "check_file", "check_return"]

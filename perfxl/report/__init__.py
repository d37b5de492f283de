"""Workbooks written for people: the review copy, the summary workbook, and the styles they share."""

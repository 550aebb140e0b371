"""Reports: the static site of the evaluation (see reports/README.md and `reports.site`)."""

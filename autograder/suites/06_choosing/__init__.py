"""Hidden suites of notebook 06 (choosing a gated cell: the cost model, the count probe, bits per
character, temperature sampling), one per exercise, written on the suite kit."""

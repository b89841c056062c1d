"""Models that travel: packages, contracts, mapping onto local names, near-duplicates, scaffolds."""

"""From hits to clues: ids, reasons, ranking; the lifecycle across runs; reviewers' decisions."""

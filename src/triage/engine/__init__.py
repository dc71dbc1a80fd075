"""Stage 4 of the pipeline: the compiled evaluator (keyword index, conditions, stages)."""

"""The engine: where each cell of the form sits, rule kinds, exact computation, formulas, findings. No I/O."""

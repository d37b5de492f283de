"""The engine: where each cell of the form sits, exact computation, formulas, numbers, findings. No I/O."""

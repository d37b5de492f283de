"""Many returns at once: consolidation, the store, and which return is current."""

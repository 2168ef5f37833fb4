"""Running many decisions: streaming case batches and the worker pool."""

"""The training path: data -> batches -> model (cells, recurrence) -> loss and metrics -> train loop,
run folders and provenance."""

"""The pipelines room: wires operators to sources and sinks (ingest on Ray actors, consolidation on Ray tasks)."""

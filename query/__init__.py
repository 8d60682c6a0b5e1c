"""The query room: reads the lake (DuckDB views over Lance, time-aware retrieval). It never writes."""

"""The service room: the HTTP door for apps (ingest and query over the network)."""

"""Vietnamese text handling and FAQ retrieval."""

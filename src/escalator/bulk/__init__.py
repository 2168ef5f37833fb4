"""Bulk evaluation: policies compiled to SQL, run on DuckDB in-process or on a Dask cluster (spec section 11)."""

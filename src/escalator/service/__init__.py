"""`escalator serve`: the Engine over HTTP (spec section 10).

    state     the live policy set: load, validate, swap atomically, watch the folder
    errors    the JSON error body every bad request gets (never a traceback)
    metrics   Prometheus counters and the latency histogram
    schemas   request/response models for the OpenAPI schema
    app       the FastAPI application and its routes
"""

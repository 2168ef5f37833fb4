"""The decision log: every decision recorded (masked), replayed and exported.

    store.DecisionLog   append-only table of decisions, SQLite (WAL) or PostgreSQL by URL
    masking.Masker      keyed hashes for the fields a policy lists under log.mask
    record              one decision -> one LogRecord; the policy-set digest and snapshot
    replay              re-decide logged cases with the logged or a candidate policy set
    export              the complaint register (CSV) from the log
"""

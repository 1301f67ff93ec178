"""The load test (`make load`): town halls, the card maker and the préfectures on the local stack at the same time.

- ``population``: the reference files of the simulated communes (generated, beside the demo's) and what the back
  office sets up through the API before the run (imports, préfecture agents, activation codes);
- ``observed_stack``: the local stack as `make run` starts it, with counters on what the run must measure (DynamoDB
  calls and refused conditions per key, the emulation's one-request-at-a-time lock, the audit log);
- ``locustfile``: the simulated users (locust, headless);
- ``check``: the tables read after the run (orders, card registry, card-number counter) against what the users
  were answered;
- ``run``: the whole of it, ``python -m bench.load`` (`make load`), report in ``var/load/``.
"""

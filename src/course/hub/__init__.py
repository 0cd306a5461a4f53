"""The course hub: JupyterHub on one machine for a class, and the accounts behind it.

- embedded.py          the state directory, the JupyterHub config, start/stop, release on schedule,
                       collect and grade on the hub, the fence plan
- auth.py              roster ids log in with their stored password only (bcrypt off the event loop)
- enrolment.py         one-time enrolment codes and the password store (passwords.dbm)
- spawner.py           student servers: fenced, in cgroups, their kernels stopped with them
- fence.py             the root wrapper (stdlib only, run by path) that lays the fence and drops
                       to the student's uid
- roster.py            `course roster add/remove/reset-code`: the roster file, system users
- feedback_release.py  the judge's feedback pages into nbgrader's exchange
- cli.py               `course roster`, `course hub`, `course feedback`

Nothing here is imported by the judge: importing this package costs nothing until a module is used.
"""

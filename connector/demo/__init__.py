"""``sop-connector demo``: a local real Redmine, the service, and a case walked to its end.

The demo runs the product as an office would: the service on SQLite reacting to what people
do in Redmine, and the people (Kepala Dinas, Kepala Bidang, Kepala Seksi, the developers,
the OPD's technical team) played over Redmine's REST API, each as their own user.
"""
